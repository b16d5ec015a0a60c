"""The seed files: every fault in a framework or resource file is refused with the file, the line and what is
wrong; loading is all or nothing and idempotent; the CLI commands; and the content of the real seeds."""

import re
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from tracker.extensions import db
from tracker.frameworks.models import Framework, Requirement
from tracker.frameworks.services import compare_versions, latest_versions
from tracker.library.models import Resource
from tracker.seeding import seed_all
from tracker.yamlcheck import SeedFileError

from .conftest import audit_count

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
FRAMEWORK_FILES = sorted((SEEDS / "frameworks").glob("*.yaml"))
AUGUST_2025 = [
    "managing-allegations-protocol",
    "annual-action-plan",
    "safer-recruitment-checklist",
    "sel-child-self-protection-standards",
    "anonymous-reporting-guidance",
    "take-it-down",
    "alecto-ai",
    "sextortion-response-kit",
]
RECRUITMENT_STAGES = [
    "preparation",
    "application",
    "shortlisting",
    "references",
    "interview",
    "pre-start-checks",
    "induction",
]


def _yaml(path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _requirements(data):
    return [r for s in data["sections"] for r in s["requirements"]]


def line_of(text, needle, nth=1, offset=0):
    """1-based number of the nth line of `text` containing `needle`, plus `offset`."""
    hits = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(hits) >= nth, f"{needle!r} occurs {len(hits)} time(s) in the broken file"
    return hits[nth - 1] + offset


def replace_once(old, new):
    def change(text):
        assert old in text, f"the seed file no longer contains {old!r}; update this test case"
        return text.replace(old, new, 1)

    return change


def insert_after(anchor, line):
    return replace_once(anchor, anchor + line)


def drop_field(resource_key, name):
    """Remove a (possibly folded, multi-line) field from one resource of resources.yaml."""
    # the lines of the resource before the field, then the field and any folded lines under it
    pattern = re.compile(
        rf"(  - key: {re.escape(resource_key)}\n(?:    .*\n)*?)"
        rf"    {name}:.*\n(?:      .*\n)*"
    )

    def change(text):
        changed, count = pattern.subn(r"\1", text, count=1)
        assert count == 1, f"resource {resource_key} has no field {name}; update this test case"
        return changed

    return change


def copy_seeds(tmp_path):
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target


# (case id, file inside seeds/, change to make, (needle, nth[, offset]) giving the reported line,
#  what the message must say after "<file>, line N: ")
BROKEN = [
    (
        "unknown-field",
        "frameworks/action-plan.yaml",
        insert_after("      - key: review-cp-policy\n", "        colour: blue\n"),
        ("colour: blue", 1),
        r"unknown field 'colour'",
    ),
    (
        "missing-required-field",
        "frameworks/recruitment.yaml",
        replace_once("        owner_role: hr\n", ""),
        ("- key: advert-safeguarding-statement", 1),
        r"missing required field 'owner_role'",
    ),
    (
        "duplicate-requirement-key",
        "frameworks/action-plan.yaml",
        replace_once("- key: review-code-of-conduct\n", "- key: review-cp-policy\n"),
        ("- key: review-cp-policy", 2),
        r"requirement 'review-cp-policy': key already used at line (?P<first>\d+)",
    ),
    (
        "bad-answer-type",
        "frameworks/action-plan.yaml",
        replace_once("answer_type: task", "answer_type: homework"),
        ("answer_type: homework", 1),
        r"'homework' is not one of: task, training, answer, check",
    ),
    (
        "bad-answer-type-on-training",
        "frameworks/training-plan.yaml",
        replace_once("answer_type: training", "answer_type: lecture"),
        ("answer_type: lecture", 1),
        r"'lecture' is not one of: task, training, answer, check",
    ),
    (
        "timing-month-12",
        "frameworks/action-plan.yaml",
        replace_once("timing: {month: 0, day: 5}", "timing: {month: 12, day: 5}"),
        ("month: 12", 1),
        r"timing\.month: 12 is outside 0\.\.11",
    ),
    (
        "timing-day-31",
        "frameworks/policy-form.yaml",
        replace_once("timing: {month: 0, day: 10}", "timing: {month: 0, day: 31}"),
        ("day: 31", 1),
        r"timing\.day: 31 is outside 1\.\.28",
    ),
    (
        "audience-on-task",
        "frameworks/action-plan.yaml",
        insert_after("      - key: review-code-of-conduct\n", "        audience: [all_staff]\n"),
        ("audience: [all_staff]", 1),
        r"requirement 'review-code-of-conduct': only training activities have an audience",
    ),
    (
        "training-without-audience",
        "frameworks/training-plan.yaml",
        replace_once("        audience: [response_team]\n", ""),
        ("- key: lead-formal-training", 1),
        r"requirement 'lead-formal-training': a training activity needs an 'audience'",
    ),
    (
        "per-country-on-task",
        "frameworks/action-plan.yaml",
        insert_after("      - key: review-cp-policy\n", "        per_country: true\n"),
        ("per_country: true", 1),
        r"requirement 'review-cp-policy': only a recruitment check can repeat per country",
    ),
    (
        "unknown-resource-key",
        "frameworks/recruitment.yaml",
        replace_once("resources: [training-plan]", "resources: [training-plan, no-such-guide]"),
        ("no-such-guide", 1),
        r"no resource with key 'no-such-guide' in the library",
    ),
    (
        "unknown-source-resource",
        "frameworks/policy-form.yaml",
        replace_once("source_resources: [policy-planning-form,", "source_resources: [missing-form,"),
        ("missing-form", 1),
        r"source_resources: no resource with key 'missing-form'",
    ),
    (
        "tab-indent",
        "frameworks/action-plan.yaml",
        replace_once("        owner_role: head\n", "\towner_role: head\n"),
        ("\towner_role: head", 1),
        r"not valid YAML: found character '\\t' that cannot start any token",
    ),
    (
        "over-indented",
        "frameworks/training-plan.yaml",
        replace_once("        owner_role: lead\n", "          owner_role: lead\n"),
        ("          owner_role: lead", 1),
        r"not valid YAML: mapping values are not allowed here",
    ),
    (
        "unclosed-flow-mapping",
        "resources.yaml",
        replace_once("tags: [Online Safety, Cybercrime]", "tags: [Online Safety, Cybercrime"),
        (
            "tags: [Online Safety, Cybercrime",
            1,
            1,
        ),  # noticed on the next line; the message says where it opened
        r"not valid YAML: expected ',' or '\]', but got ':' "
        r"\(while parsing a flow sequence that starts on line (?P<first>\d+)\)",
    ),
    ("empty-resources-file", "resources.yaml", lambda text: "", None, r"the file is empty"),
    (
        "framework-file-of-comments-only",
        "frameworks/recruitment.yaml",
        lambda text: "# nothing here yet\n\n# still nothing\n",
        None,
        r"the file is empty",
    ),
    (
        "version-bare-number",
        "frameworks/action-plan.yaml",
        replace_once('version: "2026.2"', "version: 2026.2"),
        ("version: 2026.2", 1),
        r"version: expected text \(put it in quotes\)",
    ),
    (
        "school-year-answer-type-in-person-framework",
        "frameworks/recruitment.yaml",
        replace_once("answer_type: check", "answer_type: task"),
        ("answer_type: task", 1),
        r"answer_type 'task' does not fit a person framework",
    ),
    (
        "check-in-school-year-framework",
        "frameworks/policy-form.yaml",
        replace_once("answer_type: answer", "answer_type: check"),
        ("answer_type: check", 1),
        r"answer_type 'check' does not fit a school_year framework",
    ),
    (
        "start-here-outside-section",
        "resources.yaml",
        replace_once("start_here: annual-action-plan", "start_here: take-it-down"),
        ("- key: introduction", 1),
        r"section 'introduction': start_here 'take-it-down' is not a resource of this section",
    ),
    (
        "start-here-unknown",
        "resources.yaml",
        replace_once("start_here: safer-recruitment-checklist", "start_here: no-such-checklist"),
        ("- key: recruitment", 1),
        r"section 'recruitment': start_here 'no-such-checklist' is not a resource",
    ),
    (
        "duplicate-resource-key",
        "resources.yaml",
        replace_once("- key: alecto-ai\n", "- key: take-it-down\n"),
        ("- key: take-it-down", 2),
        r"resource 'take-it-down': key already used at line (?P<first>\d+)",
    ),
    (
        "bad-date-month-13",
        "resources.yaml",
        replace_once('date: "2024-09"', 'date: "2024-13"'),
        ('date: "2024-13"', 1),
        r"date: '2024-13' is not YYYY, YYYY-MM or YYYY-MM-DD",
    ),
    (
        "unknown-resource-field",
        "resources.yaml",
        insert_after("  - key: take-it-down\n", "    rating: 5\n"),
        ("rating: 5", 1),
        r"unknown field 'rating' \(allowed: countries, date, for_items, key, languages, publishers, "
        r"sections, summary, superseded_by, tags, title, url\)",
    ),
    (
        "resource-missing-summary",
        "resources.yaml",
        drop_field("alecto-ai", "summary"),
        ("- key: alecto-ai", 1),
        r"missing required field 'summary'",
    ),
    (
        "resource-unknown-section",
        "resources.yaml",
        replace_once("sections: [reporting-support, whats-new]", "sections: [reporting-support, gossip]"),
        ("gossip", 1),
        r"'gossip' is not one of",
    ),
    (
        "resource-javascript-url",
        "resources.yaml",
        insert_after("  - key: take-it-down\n", '    url: "javascript:alert(1)"\n'),
        ("javascript:alert(1)", 1),
        r"resource 'take-it-down' url: must start with http:// or https://",
    ),
]


@pytest.mark.parametrize("name, relpath, change, where, message", BROKEN, ids=[c[0] for c in BROKEN])
def test_a_broken_seed_file_is_refused_naming_file_line_and_fault(
    tmp_path, name, relpath, change, where, message
):
    seeds = copy_seeds(tmp_path)
    path = seeds / relpath
    broken = change(path.read_text(encoding="utf-8"))
    path.write_text(broken, encoding="utf-8")
    line = line_of(broken, *where) if where else 1

    with pytest.raises(SeedFileError) as caught:
        seed_all(seeds)

    problems = caught.value.problems
    assert len(problems) == 1, problems  # one fault, one message: no knock-on complaints
    prefix = f"{path}, line {line}: "
    assert problems[0].startswith(prefix), f"expected {prefix!r}, got {problems[0]!r}"
    found = re.search(message, problems[0][len(prefix) :])
    assert found, problems[0]
    if "first" in found.groupdict():  # where a duplicated key was first used, or an unclosed bracket opened
        assert int(found["first"]) == line_of(broken, where[0], 1)
    assert str(caught.value) == "\n".join(problems)


@pytest.mark.parametrize("path", FRAMEWORK_FILES + [SEEDS / "resources.yaml"], ids=lambda p: p.name)
def test_the_unbroken_copies_load(tmp_path, path):
    """The control for the table above: a copy of each real file loads, so the faults are what is refused."""
    from tracker.frameworks.seedfile import parse_framework
    from tracker.library.seedfile import parse_library

    library = parse_library((SEEDS / "resources.yaml").read_text(encoding="utf-8"), "resources.yaml")
    if path.name == "resources.yaml":
        assert len(library.resources) >= 40
    else:
        spec = parse_framework(path.read_text(encoding="utf-8"), path.name, library.resource_keys)
        assert spec.requirements


def test_every_fault_in_a_file_is_listed_not_only_the_first(tmp_path):
    seeds = copy_seeds(tmp_path)
    path = seeds / "frameworks" / "action-plan.yaml"
    text = path.read_text(encoding="utf-8")
    text = replace_once("timing: {month: 0, day: 5}", "timing: {month: 12, day: 5}")(text)
    text = replace_once("answer_type: task", "answer_type: homework")(text)
    other = seeds / "resources.yaml"
    other.write_text(replace_once('date: "2024-09"', 'date: "2024-13"')(other.read_text(encoding="utf-8")))
    path.write_text(text, encoding="utf-8")

    with pytest.raises(SeedFileError) as caught:
        seed_all(seeds)

    problems = caught.value.problems
    assert len(problems) == 3, problems
    assert any(p.startswith(f"{other}, line ") and "2024-13" in p for p in problems)
    assert any(p.startswith(f"{path}, line {line_of(text, 'month: 12')}: ") for p in problems)
    assert any(p.startswith(f"{path}, line {line_of(text, 'homework')}: ") for p in problems)


def _good_extra_framework(seeds, key="extra-plan"):
    """A valid new framework (a renamed copy of the action plan) using a resource new in resources.yaml."""
    library = seeds / "resources.yaml"
    library.write_text(
        library.read_text(encoding="utf-8")
        + (
            "\n  - key: brand-new-guide\n"
            '    title: "Brand new guide for the all-or-nothing test"\n'
            "    publishers: [Test]\n"
            "    sections: [introduction]\n"
            "    tags: [Testing]\n"
            "    summary: Only here to show that nothing from a refused batch is loaded.\n"
        ),
        encoding="utf-8",
    )
    text = (seeds / "frameworks" / "action-plan.yaml").read_text(encoding="utf-8")
    text = replace_once("key: action-plan\n", f"key: {key}\n")(text)
    text = replace_once("resources: [policy-planning-form]", "resources: [brand-new-guide]")(text)
    (seeds / "frameworks" / f"{key}.yaml").write_text(text, encoding="utf-8")


def _counts(key="extra-plan"):
    return (
        db.session.scalar(sa.select(sa.func.count()).select_from(Framework).where(Framework.key == key)),
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Resource).where(Resource.key == "brand-new-guide")
        ),
        audit_count(),
    )


def test_seeding_is_all_or_nothing(tmp_path):
    seeds = copy_seeds(tmp_path)
    _good_extra_framework(seeds)
    broken = seeds / "frameworks" / "recruitment.yaml"
    good_recruitment = broken.read_text(encoding="utf-8")
    broken.write_text(
        replace_once("timing: {days_from_start: -90}", "timing: {days_from_start: -9000}")(good_recruitment),
        encoding="utf-8",
    )
    events = audit_count()

    with pytest.raises(SeedFileError) as caught:
        seed_all(seeds)
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith(f"{broken}, line ")
    db.session.rollback()

    assert _counts() == (0, 0, events)

    # the control: with the broken file put right, the same batch loads the new framework and resource
    broken.write_text(good_recruitment, encoding="utf-8")
    reports = seed_all(seeds)
    db.session.commit()
    assert _counts()[:2] == (1, 1)
    assert {r.what for r in reports if r.added} == {"library", "framework extra-plan 2026.2"}
    extra = db.session.execute(sa.select(Framework).where(Framework.key == "extra-plan")).scalar_one()
    linked = {res.key for req in extra.requirements for res in req.resources}
    assert "brand-new-guide" in linked


def test_seeding_twice_changes_nothing(app):
    events = audit_count()
    resources = db.session.scalar(sa.select(sa.func.count()).select_from(Resource))
    frameworks = db.session.scalar(sa.select(sa.func.count()).select_from(Framework))

    reports = seed_all(app.config["TRACKER_SEEDS_DIR"])
    db.session.commit()

    assert len(reports) == 2 + len(FRAMEWORK_FILES)  # the library, its synonyms, each framework
    for report in reports:
        assert report.added == [] and report.changed == [], report.summary()
        assert report.unchanged, report.summary()
        assert report.summary().endswith(f"0 added, 0 changed, {len(report.unchanged)} left alone")
    library = reports[0]
    assert sorted(library.unchanged) == sorted(r["key"] for r in _yaml(SEEDS / "resources.yaml")["resources"])
    assert audit_count() == events
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Resource)) == resources
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Framework)) == frameworks


def test_a_changed_resource_is_reported_changed_and_audited(tmp_path):
    """The other side of 'left alone': a real change is seen (so the idempotence test can fail)."""
    seeds = copy_seeds(tmp_path)
    path = seeds / "resources.yaml"
    path.write_text(
        replace_once('title: "Take it Down"', 'title: "Take It Down (NCMEC)"')(
            path.read_text(encoding="utf-8")
        ),
        encoding="utf-8",
    )
    events = audit_count()

    reports = seed_all(seeds)
    db.session.commit()

    assert reports[0].changed == ["take-it-down"] and reports[0].added == []
    assert all(not r.added and not r.changed for r in reports[1:])
    assert audit_count() == events + 1
    assert (
        db.session.execute(sa.select(Resource.title).where(Resource.key == "take-it-down")).scalar_one()
        == "Take It Down (NCMEC)"
    )


# --- the CLI -----------------------------------------------------------------------------------------------


def test_cli_seed_with_a_broken_file_loads_nothing_and_says_where(app, tmp_path):
    seeds = copy_seeds(tmp_path)
    _good_extra_framework(seeds)
    path = seeds / "frameworks" / "action-plan.yaml"
    broken = replace_once("- key: review-code-of-conduct\n", "- key: review-cp-policy\n")(
        path.read_text(encoding="utf-8")
    )
    path.write_text(broken, encoding="utf-8")
    before = _counts()

    result = app.test_cli_runner().invoke(args=["seed", "--dir", str(seeds)])

    assert result.exit_code == 1, result.output
    assert "Nothing was loaded" in result.output
    first = line_of(broken, "- key: review-cp-policy", 1)
    second = line_of(broken, "- key: review-cp-policy", 2)
    assert (
        f"{path}, line {second}: requirement 'review-cp-policy': key already used at line {first}"
        in result.output
    )
    assert _counts() == before


def test_cli_seed_of_the_real_seeds_leaves_everything_alone(app):
    events = audit_count()
    result = app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 2 + len(FRAMEWORK_FILES)  # the library, its synonyms, each framework
    assert all(re.search(r": 0 added, 0 changed, \d+ left alone$", line) for line in lines), result.output
    assert audit_count() == events


def _new_action_plan_version(tmp_path, removed="review-code-of-conduct", added="check-visitor-procedures"):
    data = _yaml(SEEDS / "frameworks" / "action-plan.yaml")
    data["version"] = "2099.1"
    first = data["sections"][0]["requirements"]
    assert any(r["key"] == removed for r in first)
    data["sections"][0]["requirements"] = [r for r in first if r["key"] != removed] + [
        {
            "key": added,
            "title": "Check the visitor and contractor procedures",
            "guidance": "Walk through how visitors and contractors are signed in, supervised and identified.",
            "answer_type": "task",
            "owner_role": "lead",
            "timing": {"month": 0, "day": 12},
            "repeat": "yearly",
            "evidence": "Dated note of the walk-through.",
            "resources": ["choosing-safe-programs"],
        }
    ]
    path = tmp_path / "action-plan-2099.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    assert 'version: "2099.1"' in path.read_text() or "version: '2099.1'" in path.read_text()
    return path


def test_cli_frameworks_import_adds_a_version_beside_the_old(app, tmp_path):
    path = _new_action_plan_version(tmp_path)
    old = db.session.execute(sa.select(Framework).where(Framework.key == "action-plan")).scalar_one()
    old_keys = [r.key for r in old.requirements]
    old_id = old.id
    events = audit_count()

    result = app.test_cli_runner().invoke(args=["frameworks", "import", str(path)])

    assert result.exit_code == 0, result.output
    assert "framework action-plan 2099.1: 1 added, 0 changed, 0 left alone" in result.output
    db.session.expire_all()
    versions = (
        db.session.execute(
            sa.select(Framework).where(Framework.key == "action-plan").order_by(Framework.loaded_at)
        )
        .scalars()
        .all()
    )
    assert [v.version for v in versions] == ["2026.2", "2099.1"]
    old, new = versions
    assert old.id == old_id and [r.key for r in old.requirements] == old_keys  # the old version is untouched
    assert audit_count() == events + 1
    assert next(f for f in latest_versions() if f.key == "action-plan").version == "2099.1"

    change = compare_versions(old, new)
    assert change.removed == ["review-code-of-conduct"]
    assert change.added == ["check-visitor-procedures"]
    assert change.kept == [k for k in old_keys if k != "review-code-of-conduct"]
    assert len(new.requirements) == len(old_keys)
    added = next(r for r in new.requirements if r.key == "check-visitor-procedures")
    assert [res.key for res in added.resources] == ["choosing-safe-programs"]

    again = app.test_cli_runner().invoke(args=["frameworks", "import", str(path)])
    assert again.exit_code == 0, again.output
    assert "0 added, 0 changed, 1 left alone" in again.output
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Framework).where(Framework.key == "action-plan")
        )
        == 2
    )


def test_cli_frameworks_import_of_a_broken_file_loads_nothing(app, tmp_path):
    path = tmp_path / "action-plan-broken.yaml"
    text = (SEEDS / "frameworks" / "action-plan.yaml").read_text(encoding="utf-8")
    text = replace_once('version: "2026.2"', 'version: "2099.2"')(text)
    text = replace_once("resources: [policy-planning-form]", "resources: [policy-planing-form]")(text)
    path.write_text(text, encoding="utf-8")
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Framework))

    result = app.test_cli_runner().invoke(args=["frameworks", "import", str(path)])

    assert result.exit_code == 1
    assert "Nothing was loaded" in result.output
    assert f"{path}, line {line_of(text, 'policy-planing-form')}: " in result.output
    assert "no resource with key 'policy-planing-form'" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Framework)) == before


# --- content of the real seeds ---------------------------------------------------------------------------


def test_every_resource_a_framework_names_is_in_the_library():
    library = {r["key"] for r in _yaml(SEEDS / "resources.yaml")["resources"]}
    for path in FRAMEWORK_FILES:
        data = _yaml(path)
        named = set(data.get("source_resources", []))
        for req in _requirements(data):
            named |= set(req.get("resources", []))  # a same_as reference names none: the duty's do
        assert named, path.name
        assert named <= library, f"{path.name}: {sorted(named - library)}"


def test_requirement_resources_in_the_database_resolve_to_the_file():
    shared = set(db.session.execute(sa.select(Resource.key).where(Resource.school_id.is_(None))).scalars())
    for path in FRAMEWORK_FILES:
        data = _yaml(path)
        framework = db.session.execute(
            sa.select(Framework).where(Framework.key == data["key"], Framework.version == data["version"])
        ).scalar_one()
        in_db = {r.key: [res.key for res in r.resources] for r in framework.requirements}
        in_file = {r["key"]: r.get("resources", []) for r in _requirements(data)}
        assert set(in_db) == set(in_file)
        for key, wanted in in_file.items():
            assert sorted(in_db[key]) == sorted(wanted), f"{data['key']}/{key}"
            assert set(in_db[key]) <= shared
        assert set(framework.source_resource_keys) <= shared


def test_the_library_has_every_resource_of_the_august_2025_update():
    data = _yaml(SEEDS / "resources.yaml")
    by_key = {r["key"]: r for r in data["resources"]}
    assert len(by_key) == len(data["resources"]) >= 40
    whats_new = [r["key"] for r in data["resources"] if "whats-new" in r["sections"]]
    assert len(whats_new) >= 8
    for key in AUGUST_2025:
        assert key in by_key, key
        assert "whats-new" in by_key[key]["sections"], key
    assert {s["key"] for s in data["sections"]} == {
        "introduction",
        "awareness-prevention",
        "policies-procedures",
        "accreditation",
        "recruitment",
        "reporting-support",
        "curriculum-resources",
        "whats-new",
    }
    in_db = set(db.session.execute(sa.select(Resource.key).where(Resource.school_id.is_(None))).scalars())
    assert set(by_key) <= in_db


def _loaded(key, version):
    return db.session.execute(
        sa.select(Framework).where(Framework.key == key, Framework.version == version)
    ).scalar_one()


def _framework(key):
    return next(_yaml(p) for p in FRAMEWORK_FILES if _yaml(p)["key"] == key)


def test_framework_sizes():
    assert {_yaml(p)["key"] for p in FRAMEWORK_FILES} == {
        "action-plan",
        "policy-form",
        "recruitment",
        "training-plan",
    }
    assert len(_requirements(_framework("action-plan"))) >= 30
    assert len(_requirements(_framework("policy-form"))) >= 20
    assert len(_requirements(_framework("recruitment"))) >= 20
    assert len(_requirements(_framework("training-plan"))) >= 20


def test_recruitment_covers_every_stage_with_one_per_country_check():
    data = _framework("recruitment")
    assert data["scope"] == "person"
    assert [s["key"] for s in data["sections"]] == RECRUITMENT_STAGES
    assert all(s["requirements"] for s in data["sections"])
    requirements = _requirements(data)
    assert all(r["answer_type"] == "check" for r in requirements)
    per_country = [r["key"] for r in requirements if r.get("per_country")]
    assert len(per_country) == 1, per_country
    # and the database agrees
    framework = _loaded("recruitment", data["version"])
    assert [s.key for s in framework.sections] == RECRUITMENT_STAGES
    assert [r.key for r in framework.requirements if r.per_country] == per_country


def test_training_plan_activities_have_an_audience_and_a_repeat():
    data = _framework("training-plan")
    requirements = _requirements(data)
    assert requirements
    for r in requirements:
        assert r["answer_type"] == "training", r["key"]
        assert r.get("audience"), r["key"]
        assert r["repeat"] in ("at_induction", "yearly", "every_two_years"), r["key"]
    framework = _loaded("training-plan", data["version"])
    assert all(r.audience for r in framework.requirements)


def test_every_framework_is_labelled_a_starter_template():
    for path in FRAMEWORK_FILES:
        assert "Starter template" in _yaml(path)["label"], path.name
    loaded = latest_versions()
    assert len(loaded) == len(FRAMEWORK_FILES)
    assert all("Starter template" in f.label for f in loaded)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Requirement)) >= 30 + 20 + 20 + 20
