"""One duty, one item across frameworks (`same_as`), termly leavers, honest names and source editions, and
the upgrade of a year to the corrected framework versions (issue 17, "The frameworks")."""

import copy
import itertools
import re
from pathlib import Path

import pytest
import yaml

from tracker.evidence.models import Evidence
from tracker.extensions import db
from tracker.frameworks.models import SCHOOL_YEAR, Framework
from tracker.frameworks.seedfile import parse_framework
from tracker.frameworks.services import compare_versions, load_framework
from tracker.reports import data as report_data
from tracker.tracking import dashboard, services
from tracker.tracking import years as years_module
from tracker.tracking.models import Comment, Item
from tracker.tracking.state import set_status

from .test_tracking import _client, _items, _latest

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
FRAMEWORK_FILES = sorted((SEEDS / "frameworks").glob("*.yaml"))
ACTION, TRAINING = "Annual Safeguarding Action Plan", "Child Protection Training Plan"


@pytest.fixture
def school(make_school):
    return make_school(timezone="Europe/London", year_start_month=8)


@pytest.fixture
def lead(school, make_member):
    return make_member(school, "lead", name="Lena Lead")


# --- "the same duty", defined ----------------------------------------------------------------------------

#: words that say nothing about which duty it is (articles, generic verbs, the domain's every-line words)
GENERIC = set(
    """a an the and or of for to in on at by with from about how each every all this that their its is are
    be new yearly annual year's year next run hold set check review show make safeguarding child
    protection""".split()
)


def duty_words(title: str) -> set[str]:
    """The words of a title that name the duty: lower case, generic words dropped, simple endings cut
    (induction/induct, briefing/brief, parents/parent)."""
    out = set()
    for word in re.findall(r"[a-z]+", title.lower()):
        if word in GENERIC or len(word) < 3:
            continue
        out.add(re.sub(r"(ing|ion|s)$", "", word))
    return out


def same_duties(frameworks: list[dict]) -> list[tuple[str, str]]:
    """Pairs of requirements in two different school-year frameworks that make items for the same duty in the
    same year. The same duty: both make items (tasks or training; answers to a policy question are not duties,
    and a `same_as` reference makes none), both fall due on the same date of the year (same timing month and
    day, or both termly) and their titles share at least two duty words (`duty_words`)."""
    doers = []
    for data in frameworks:
        if data["scope"] != SCHOOL_YEAR:
            continue
        for section in data["sections"]:
            for r in section["requirements"]:
                if r.get("same_as") or r.get("answer_type") not in ("task", "training"):
                    continue
                doers.append((data["key"], r))
    pairs = []
    for (fa, a), (fb, b) in itertools.combinations(doers, 2):
        if fa == fb:
            continue
        when_a = "termly" if a["repeat"] == "termly" else (a["timing"]["month"], a["timing"].get("day", 1))
        when_b = "termly" if b["repeat"] == "termly" else (b["timing"]["month"], b["timing"].get("day", 1))
        if when_a == when_b and len(duty_words(a["title"]) & duty_words(b["title"])) >= 2:
            pairs.append((f"{fa}/{a['key']}", f"{fb}/{b['key']}"))
    return pairs


def _seed(key):
    return yaml.safe_load((SEEDS / "frameworks" / f"{key}.yaml").read_text(encoding="utf-8"))


def _old_seeds():
    """The 2026.1 shape of the action plan and training plan rebuilt from today's files: every `same_as`
    reference written out as its own task again, the leavers' items yearly, the training plan's sections
    named "Phase N: ..."."""
    action, training = _seed("action-plan"), _seed("training-plan")
    targets = {r["key"]: r for s in training["sections"] for r in s["requirements"]}
    action["version"] = training["version"] = "2025.9"
    for data in (action, training):
        data.pop("source", None)
    for section in action["sections"]:
        for i, r in enumerate(section["requirements"]):
            if r.get("same_as"):
                t = targets[r["same_as"].split("/")[1]]
                full = {k: copy.deepcopy(v) for k, v in t.items() if k not in ("audience", "grades")}
                full.update(key=r["key"], title=r["title"], answer_type="task")
                if full["repeat"] == "at_induction":
                    full["repeat"] = "yearly"
                section["requirements"][i] = full
            elif r["key"] in ("transfer-leaver-records", "update-staff-records-leavers"):
                r["repeat"] = "yearly"
    for n, section in enumerate(training["sections"], 1):
        section["title"] = f"Phase {n}: {section['title']}"
    return action, training


def test_no_two_frameworks_make_items_for_the_same_duty_in_the_same_year():
    frameworks = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in FRAMEWORK_FILES]
    assert same_duties(frameworks) == []


def test_the_same_duty_check_finds_the_duplicates_the_seeds_had():
    """Not vacuous: on the seeds as they were (the references written out again) it finds them."""
    action, training = _old_seeds()
    found = same_duties([action, training, _seed("policy-form")])
    assert ("action-plan/new-staff-induction", "training-plan/staff-induction") in found
    assert ("action-plan/audit-training-records", "training-plan/training-records-audit") in found
    assert ("action-plan/board-safeguarding-induction", "training-plan/board-induction-training") in found
    assert len({a for a, _ in found}) >= 7, found


def test_every_same_as_names_a_duty_kept_in_another_school_year_framework():
    frameworks = {
        d["key"]: d for d in (yaml.safe_load(p.read_text(encoding="utf-8")) for p in FRAMEWORK_FILES)
    }
    requirements = {
        (k, r["key"]): (d, r) for k, d in frameworks.items() for s in d["sections"] for r in s["requirements"]
    }
    references = [(k, r) for (k, _), (d, r) in requirements.items() if r.get("same_as")]
    assert len(references) == 9
    for key, r in references:
        target_fw, _, target_key = r["same_as"].partition("/")
        assert target_fw != key, r["key"]
        data, target = requirements[(target_fw, target_key)]
        assert data["scope"] == SCHOOL_YEAR and not target.get("same_as"), r["key"]


def test_a_reference_is_refused_with_fields_of_its_own():
    text = (SEEDS / "frameworks" / "action-plan.yaml").read_text(encoding="utf-8")
    broken = text.replace(
        "        same_as: training-plan/staff-induction\n",
        "        same_as: training-plan/staff-induction\n        repeat: yearly\n",
        1,
    )
    broken = broken.replace(
        "same_as: training-plan/staff-annual-refresher", "same_as: staff-annual-refresher"
    )
    from tracker.yamlcheck import SeedFileError

    with pytest.raises(SeedFileError) as caught:
        parse_framework(broken, "action-plan.yaml", {"annual-action-plan"} | _resource_keys())
    problems = "\n".join(caught.value.problems)
    assert "a same_as requirement has no 'repeat'" in problems
    assert "write it as <framework key>/<requirement key>" in problems


def _resource_keys():
    return {r["key"] for r in yaml.safe_load((SEEDS / "resources.yaml").read_text())["resources"]}


# --- one item, counted in both ---------------------------------------------------------------------------


def test_a_year_makes_one_item_per_shared_duty_and_it_counts_in_both_frameworks(app, school, lead):
    year = services.start_year(school, 2026)
    db.session.flush()
    assert _items(year, "new-staff-induction") == []  # the reference makes no item
    [induction] = _items(year, "staff-induction")
    assert induction.framework.key == "training-plan"
    set_status(induction, "done", on=induction.due_on)
    db.session.flush()

    bars = {p.title: p for p in dashboard.progress(school, year, lead)}
    action_own = [i for i in _items(year) if i.framework and i.framework.key == "action-plan"]
    shared = {
        "staff-induction",
        "staff-annual-refresher",
        "support-staff-annual",
        "students-reporting-routes",
        "parent-policy-information",
        "board-induction-training",
        "training-records-audit",
        "parent-online-safety",
        "training-plan-annual-review",
    }
    shared_items = [i for i in _items(year) if i.requirement_key in shared]
    assert bars[ACTION].total == len(action_own) + len(shared_items)
    assert bars[ACTION].done == 1 and bars[TRAINING].done == 1
    start = bars[ACTION].sections["Start of year"]
    assert start.done == 1  # the induction counts under the action plan's own section

    # the framework report and the accreditation report list it under the action plan too
    action = _latest("action-plan")
    report = report_data.framework(school, year, action)
    [fw] = report["frameworks"]
    rows = [r for r in fw["items"] if r["title"] == induction.title]
    assert rows and rows[0]["kept_in"] == TRAINING and rows[0]["section"] == "Start of year"
    assert fw["done"] == 1 and fw["total"] == len(action_own) + len(shared_items)
    accreditation = {f["title"]: f for f in report_data.accreditation(school, year)["frameworks"]}
    assert accreditation[ACTION]["done"] == 1 and accreditation[TRAINING]["done"] == 1


def test_leavers_are_termly_with_wording_for_this_terms_leavers(app, school):
    year = services.start_year(school, 2026)
    for key in ("transfer-leaver-records", "update-staff-records-leavers"):
        items = _items(year, key)
        assert len(items) == 3, key
        assert "this term's" in items[0].title
        assert len({i.due_on for i in items}) == 3


# --- the framework pages ---------------------------------------------------------------------------------


def test_the_framework_pages_name_audiences_link_the_infographic_and_show_the_source_edition(
    app, school, lead
):
    client = _client(app, lead)
    index = client.get(f"/s/{school.slug}/frameworks/").get_data(as_text=True)
    assert "ITFCP Safer Recruitment Checklist (ITFCP), February 2024" in index
    training = client.get(f"/s/{school.slug}/frameworks/training-plan").get_data(as_text=True)
    assert "Phase " not in training
    for name in (
        "Leadership, response team and board",
        "All staff",
        "Support staff, volunteers and contractors",
        "Parents and caregivers",
        "Students",
        "Review and record keeping",
    ):
        assert f"<h2>{name}</h2>" in training
    trauma = training.split('id="req-staff-trauma-informed-response"')[1].split("</li>")[0]
    assert 'mandatory-reporter-infographic">' in trauma
    assert "Also counts in" in training and ACTION in training
    action = client.get(f"/s/{school.slug}/frameworks/action-plan").get_data(as_text=True)
    assert "Source edition modelled:</strong> ICMEC Safeguarding Action Plan (ICMEC), August 2025" in action
    induction = action.split('id="req-new-staff-induction"')[1].split("</li>")[0]
    assert (
        "Kept in" in induction
        and TRAINING in induction
        and "Child protection induction for new staff" in induction
    )


# --- upgrading a year ------------------------------------------------------------------------------------


def _load_old_versions():
    """Load the 2025.9 (old-shape) versions as if they had been loaded before today's."""
    keys = _resource_keys()
    old = []
    for data in _old_seeds():
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
        load_framework(parse_framework(text, f"{data['key']}.yaml", keys))
        fw = db.session.execute(
            db.select(Framework).where(Framework.key == data["key"], Framework.version == "2025.9")
        ).scalar_one()
        current = _latest(data["key"]) if _latest(data["key"]).id != fw.id else None
        old.append(fw)
    db.session.flush()
    for fw in old:
        newest = (
            db.session.execute(db.select(Framework).where(Framework.key == fw.key, Framework.id != fw.id))
            .scalars()
            .all()
        )
        fw.loaded_at = min(f.loaded_at for f in newest).replace(year=2000)
    db.session.flush()
    assert current is None or current.version != "2025.9"
    return {f.key: f for f in old}


def test_upgrading_moves_shared_duties_with_their_evidence_and_lists_what_moved(
    app, school, lead, monkeypatch
):
    old = _load_old_versions()
    policy = _latest("policy-form")
    monkeypatch.setattr(
        years_module, "_school_year_frameworks", lambda: [old["action-plan"], old["training-plan"], policy]
    )
    year = services.start_year(school, 2026)
    monkeypatch.undo()
    db.session.flush()
    [old_induction] = _items(year, "new-staff-induction")
    [training_induction] = _items(year, "staff-induction")
    assert old_induction.framework_id == old["action-plan"].id  # the old shape: two items for one duty
    set_status(old_induction, "done", on=old_induction.due_on)
    db.session.add(
        Evidence(
            school_id=school.id,
            item_id=old_induction.id,
            kind="link",
            name="Induction register",
            url="https://example.org/register",
        )
    )
    db.session.add(
        Comment(school_id=school.id, item_id=old_induction.id, author_id=lead.user_id, body="All came.")
    )
    [leavers] = _items(year, "transfer-leaver-records")
    db.session.commit()

    client = _client(app, lead)
    page = client.get(f"/s/{school.slug}/years/{year.id}/upgrade/action-plan").get_data(as_text=True)
    assert "Run safeguarding induction for new staff: moved to Child Protection Training Plan" in page
    assert "Every year → Every term" in page
    training_page = client.get(f"/s/{school.slug}/years/{year.id}/upgrade/training-plan").get_data(
        as_text=True
    )
    assert (
        "Phase 1: Leadership, response team and board → Leadership, response team and board" in training_page
    )

    response = client.post(f"/s/{school.slug}/years/{year.id}/upgrade/action-plan", follow_redirects=True)
    assert response.status_code == 200
    assert "9 moved to another framework (1 evidence moved with them)" in response.get_data(as_text=True)
    response = client.post(f"/s/{school.slug}/years/{year.id}/upgrade/training-plan", follow_redirects=True)
    assert response.status_code == 200

    db.session.expire_all()
    training_induction = db.session.get(Item, training_induction.id)
    old_induction = db.session.get(Item, old_induction.id)
    assert training_induction.status == "done" and training_induction.completed_on == old_induction.due_on
    assert old_induction.status == "not_applicable"
    assert old_induction.na_reason.startswith("Moved to Child Protection Training Plan")
    evidence = db.session.execute(db.select(Evidence).where(Evidence.school_id == school.id)).scalars().all()
    assert [(e.item_id, e.name) for e in evidence] == [(training_induction.id, "Induction register")]
    comments = db.session.execute(
        db.select(Comment).where(Comment.item_id == training_induction.id)
    ).scalars()
    assert [c.body for c in comments] == ["All came."]
    assert training_induction.section_title == "All staff"  # the renamed section follows

    # no duty has two live items: every moved key has only its not-applicable tombstone besides the target
    for change in compare_versions(old["action-plan"], _latest("action-plan")).moved:
        live = [i for i in _items(year, change.key) if i.status != "not_applicable"]
        assert live == [], change.key

    # the leavers' item became termly: the kept occurrence keeps its work, two more are added
    items = _items(year, "transfer-leaver-records")
    assert sorted(i.occurrence for i in items) == [1, 2, 3] and leavers.id in {i.id for i in items}
    assert [i.occurrence for i in items] == [1, 2, 3]  # the kept one moved to its term's date too
