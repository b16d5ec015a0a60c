"""The library and framework pages: search ranking and robustness, sections and resources for every role,
tag facets, a school's own resources (add, edit, delete, isolation), 'Used by', framework pages and the
query budget."""

import html
import re
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa
import yaml

from tracker.audit import AuditEvent
from tracker.extensions import db
from tracker.frameworks.seedfile import parse_framework
from tracker.frameworks.services import latest_versions, load_framework
from tracker.library.models import Resource
from tracker.library.search import ranked_ids
from tracker.library.services import add_school_resource
from tracker.library.vocabulary import language_name
from tracker.tenancy import ROLES

from .conftest import audit_count
from .world import build_worlds, sign_in

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
LIBRARY = yaml.safe_load((SEEDS / "resources.yaml").read_text(encoding="utf-8"))
SHARED_KEYS = [r["key"] for r in LIBRARY["resources"]]
TITLES = {r["key"]: r["title"] for r in LIBRARY["resources"]}
SECTIONS = {s["key"]: s["title"] for s in LIBRARY["sections"]}
FRAMEWORKS = {
    d["key"]: d
    for d in (
        yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted((SEEDS / "frameworks").glob("*.yaml"))
    )
}
STARTER_LABEL = "Starter template based on published guidance"


def text_of(page):
    """The visible text of an HTML page: tags dropped, entities decoded, whitespace collapsed."""
    if not isinstance(page, str):
        page = page.get_data(as_text=True)
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))
    return re.sub(r" ([,.:;])", r"\1", text)


def result_keys(response):
    """Keys of the resources in the results list of a library page, in order."""
    page = response.get_data(as_text=True)
    found = re.search(r'<ol class="results">(.*?)</ol>', page, re.S)
    if found is None:
        return []
    return re.findall(r'<h2 class="result-title"><a href="/s/[^/]+/library/r/([^"]+)">', found.group(1))


def first_result_title(response):
    page = response.get_data(as_text=True)
    found = re.search(r'<h2 class="result-title"><a href="[^"]+">([^<]*)</a>', page)
    return html.unescape(found.group(1)) if found else None


def total_of(response):
    found = re.search(r"(\d+) resources? ", text_of(response))
    assert found, "no result count on the page"
    return int(found.group(1))


@pytest.fixture
def lead_school(app, make_school, make_member):
    """(school, signed-in client) for a new school's lead."""
    school = make_school()
    lead = make_member(school, "lead")
    client = sign_in(app.test_client(), lead.user)
    return school, client, lead


def key_by_id():
    return dict(db.session.execute(sa.select(Resource.id, Resource.key)).all())


# --- search ----------------------------------------------------------------------------------------------

RANKING = [
    ("recruitment references", "safer-recruitment-checklist"),
    ("sextortion", "sextortion-response-kit"),
    ("anonymous reporting", "anonymous-reporting-guidance"),
    ("disclosure", "receiving-disclosure-dos-donts"),
    ("allegations", "managing-allegations-protocol"),
    ("survey", "student-safety-survey-samples"),
    # checked against the seed content: the word is in the title or is the resource's subject
    ("take down images", "take-it-down"),
    ("deepfakes", "alecto-ai"),
    ("online blackmail", "sextortion-response-kit"),
    ("violence prevention", "school-violence-prevention-handbook"),
    ("special needs autism", "sen-abuse-prevention-response"),
    ("recruiting", "safer-recruitment-checklist"),  # another form of the word still finds it
]


@pytest.mark.parametrize("query, expected", RANKING, ids=[q for q, _ in RANKING])
def test_search_ranks_the_right_resource_first(lead_school, query, expected):
    school, client, _ = lead_school
    keys = key_by_id()

    ranked = [keys[i] for i in ranked_ids(school, query)]
    assert ranked, f"nothing found for {query!r}"
    assert ranked[0] == expected, f"{query!r}: {ranked[:3]} ranked first"

    response = client.get(f"/s/{school.slug}/library/?q={quote(query)}")
    assert response.status_code == 200
    assert first_result_title(response) == TITLES[expected]
    assert result_keys(response)[0] == expected
    assert total_of(response) == len(ranked)


ODD_QUERIES = [
    '"NEAR(',
    "*",
    "OR AND",
    "') DROP TABLE resources; --",
    'title:"x',
    "NEAR(a b, 2)",
    "a AND",
    "^",
    "-",
    '"',
    "!!",
    "& | ! <->",
    "foo:*",
    "%_%",
    "\\",
    "'",
    "x" * 500,
    "ñandú 日本語",
    "sextortion OR",
    "NOT disclosure",
    "(((",
    "{}[]",
    "\x00",
]


@pytest.mark.parametrize("query", ODD_QUERIES)
def test_a_query_of_punctuation_or_search_syntax_never_fails(lead_school, query):
    school, client, _ = lead_school
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Resource))
    assert isinstance(ranked_ids(school, query), list)
    response = client.get(f"/s/{school.slug}/library/", query_string={"q": query})
    page = response.get_data(as_text=True)
    if "\x00" in query:  # refused for every request by tracker.security, with a message
        assert response.status_code == 400 and "NUL character" in page
    else:
        assert response.status_code == 200, query
    assert "Something went wrong" not in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Resource)) == before


def test_a_query_with_words_among_the_syntax_still_searches(lead_school):
    school, client, _ = lead_school
    response = client.get(f"/s/{school.slug}/library/", query_string={"q": '"allegations" AND NEAR('})
    assert response.status_code == 200
    assert result_keys(response)[0] == "managing-allegations-protocol"


@pytest.mark.parametrize("query", ["", "   "])
def test_an_empty_query_shows_the_sections_landing_page(lead_school, query):
    school, client, _ = lead_school
    response = client.get(f"/s/{school.slug}/library/", query_string={"q": query})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    text = text_of(page)
    assert '<ol class="results">' not in page and "Nothing matches" not in page
    for key, title in SECTIONS.items():
        assert title in text
        assert f'href="/s/{school.slug}/library/?section={key}"' in page
    assert text.count("Start here") >= len(SECTIONS)
    for section in LIBRARY["sections"]:
        assert TITLES[section["start_here"]] in text
    assert "Your school's own documents and links" in text


# --- every section and resource page for every role -------------------------------------------------------


def test_every_section_and_shared_resource_page_renders_for_every_role(app):
    a, _ = build_worlds()
    slug = a.school.slug
    own_sections = {"policies-procedures"}  # world A's own resource
    for role in ROLES:
        client = sign_in(app.test_client(), a.members[role].user)
        for key, title in SECTIONS.items():
            response = client.get(f"/s/{slug}/library/?section={key}")
            assert response.status_code == 200, (role, key)
            expected = sum(key in r["sections"] for r in LIBRARY["resources"]) + (key in own_sections)
            assert total_of(response) == expected, (role, key)
            assert f"in {title}" in text_of(response)
        for key in SHARED_KEYS:
            response = client.get(f"/s/{slug}/library/r/{key}")
            assert response.status_code == 200, (role, key)
            assert TITLES[key] in text_of(response), (role, key)
        assert client.get(f"/s/{slug}/library/?section=no-such-section").status_code == 404
        assert client.get(f"/s/{slug}/library/r/no-such-resource").status_code == 404


# --- tag facets ------------------------------------------------------------------------------------------


def _tagged(kind, value):
    field = {"topic": "tags", "country": "countries", "language": "languages"}[kind]
    return {r["key"] for r in LIBRARY["resources"] if value in r.get(field, [])}


@pytest.mark.parametrize(
    "tag",
    [
        "topic:Recruitment",
        "topic:Online Safety",
        "topic:Legislation",
        "country:Philippines",
        "language:es",
    ],
)
def test_a_tag_filter_shows_only_tagged_resources_and_its_facet_counts_them(lead_school, tag):
    school, client, _ = lead_school
    kind, value = tag.split(":", 1)
    wanted = _tagged(kind, value)
    assert 0 < len(wanted) <= 20

    response = client.get(f"/s/{school.slug}/library/", query_string={"tag": tag})

    assert response.status_code == 200
    keys = result_keys(response)
    assert set(keys) == wanted and len(keys) == len(wanted)
    assert total_of(response) == len(wanted)
    page = response.get_data(as_text=True)
    facet = re.search(
        r'aria-current="true">✓ '
        + re.escape(html.escape(language_name(value) if kind == "language" else value))
        + r'</a> <span class="muted small">(\d+)</span>',
        page,
    )
    assert facet, f"no active facet for {tag}"
    assert int(facet.group(1)) == len(keys)


def test_tag_and_search_filters_combine(lead_school):
    school, client, _ = lead_school
    response = client.get(
        f"/s/{school.slug}/library/", query_string={"q": "online", "tag": "topic:Cybercrime"}
    )
    keys = result_keys(response)
    assert keys and set(keys) <= _tagged("topic", "Cybercrime")
    everything = client.get(f"/s/{school.slug}/library/", query_string={"q": "online"})
    assert set(keys) < set(result_keys(everything)) | _tagged("topic", "Cybercrime")
    assert len(keys) < total_of(everything)


@pytest.mark.parametrize("tag", ["bogus", "topic:", "colour:red", ":Recruitment", "topic:" + "x" * 101])
def test_an_invalid_tag_filter_is_a_bad_request(lead_school, tag):
    school, client, _ = lead_school
    response = client.get(f"/s/{school.slug}/library/", query_string={"tag": tag})
    assert response.status_code == 400


# --- a school's own resources ------------------------------------------------------------------------------

NEW = {
    "title": "Quillfeather playground supervision rota",
    "url": "https://intranet.example.org/rota",
    "publishers": "Our school",
    "published": "2025-09",
    "summary": "Who watches the playground at break.",
    "sections": ["policies-procedures", "reporting-support"],
    "tags": "Supervision, Playground",
}


def _events(action, resource_id):
    return (
        db.session.execute(
            sa.select(AuditEvent).where(
                AuditEvent.action == action, AuditEvent.subject_id == str(resource_id)
            )
        )
        .scalars()
        .all()
    )


def _fts_titles(resource_id):
    """Titles in SQLite's full-text index for a resource; PostgreSQL searches the row itself, so its index is
    the row and always agrees (None)."""
    if db.session.get_bind().dialect.name != "sqlite":
        return None
    return (
        db.session.execute(
            sa.text("SELECT title FROM resource_fts WHERE resource_id = :id"), {"id": resource_id.hex}
        )
        .scalars()
        .all()
    )


def _fts_in_step(resource_id, titles):
    found = _fts_titles(resource_id)
    assert found is None or found == titles, found


def _own(school):
    return db.session.execute(sa.select(Resource).where(Resource.school_id == school.id)).scalars().all()


def test_a_lead_adds_edits_and_deletes_a_school_resource(app):
    a, b = build_worlds()
    lead_a = sign_in(app.test_client(), a.members["lead"].user)
    lead_b = sign_in(app.test_client(), b.members["lead"].user)
    staff_a = sign_in(app.test_client(), a.members["staff"].user)
    base_a, base_b = f"/s/{a.school.slug}/library", f"/s/{b.school.slug}/library"

    response = lead_a.post(f"{base_a}/new", data=NEW)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    key = response.headers["Location"].rsplit("/r/", 1)[1]
    db.session.expire_all()
    item = db.session.execute(sa.select(Resource).where(Resource.key == key)).scalar_one()
    assert item.school_id == a.school.id and item.title == NEW["title"]
    assert item.section_keys == ["policies-procedures", "reporting-support"]
    assert item.tag_values("topic") == ["Playground", "Supervision"]
    assert item.created_by_id == a.members["lead"].user.id
    assert NEW["title"].split()[0].lower() not in key  # titles stay out of URLs
    added = _events("library.resource_added", item.id)
    assert len(added) == 1
    assert added[0].school_id == a.school.id and added[0].actor_id == a.members["lead"].user.id
    assert added[0].after["title"] == NEW["title"]
    _fts_in_step(item.id, [NEW["title"]])

    # members of the school see it: its page, the landing page, its sections, its tags and search
    for client in (lead_a, staff_a):
        page = client.get(f"{base_a}/r/{key}")
        assert page.status_code == 200 and NEW["title"] in text_of(page)
        assert NEW["title"] in text_of(client.get(f"{base_a}/"))
        assert key in result_keys(client.get(f"{base_a}/?section=reporting-support"))
        assert key in result_keys(client.get(f"{base_a}/", query_string={"tag": "topic:Playground"}))
        for words in ("quillfeather", "playground supervision", "Quillfeather rota"):
            assert result_keys(client.get(f"{base_a}/", query_string={"q": words}))[0] == key, words
    assert [k for k in (key_by_id().get(i) for i in ranked_ids(a.school, "quillfeather"))] == [key]

    # a member of another school never sees it
    assert lead_b.get(f"{base_b}/r/{key}").status_code == 404
    assert lead_b.get(f"{base_a}/r/{key}").status_code == 404
    assert lead_b.get(f"{base_b}/r/{key}/edit").status_code == 404
    assert lead_b.post(f"{base_b}/r/{key}/delete").status_code == 404
    assert ranked_ids(b.school, "quillfeather") == []
    for url in (
        f"{base_b}/",
        f"{base_b}/?section=reporting-support",
        f"{base_b}/?q=quillfeather",
        f"{base_b}/?q=playground",
        f"{base_b}/?tag=topic:Playground",
        f"{base_b}/?tag=topic:Supervision",
    ):
        response = lead_b.get(url)
        assert response.status_code == 200, url
        assert "Quillfeather" not in response.get_data(as_text=True), url
        assert key not in response.get_data(as_text=True), url

    # edit
    assert lead_a.get(f"{base_a}/r/{key}/edit").status_code == 200
    changed = {
        **NEW,
        "title": "Quillfeather lunchtime supervision rota",
        "sections": ["policies-procedures"],
        "tags": "Supervision, Lunchtime",
    }
    response = lead_a.post(f"{base_a}/r/{key}/edit", data=changed)
    assert response.status_code == 302
    db.session.expire_all()
    item = db.session.get(Resource, item.id)
    assert item.title == changed["title"] and item.section_keys == ["policies-procedures"]
    assert item.tag_values("topic") == ["Lunchtime", "Supervision"]
    event = _events("library.resource_changed", item.id)
    assert len(event) == 1 and event[0].school_id == a.school.id
    assert event[0].before["title"] == NEW["title"] and event[0].after["title"] == changed["title"]
    _fts_in_step(item.id, [changed["title"]])
    assert result_keys(lead_a.get(f"{base_a}/", query_string={"q": "lunchtime"})) == [key]
    assert key not in result_keys(lead_a.get(f"{base_a}/?section=reporting-support"))
    assert ranked_ids(b.school, "lunchtime") == []

    # staff may read it but not change it
    assert staff_a.get(f"{base_a}/r/{key}/edit").status_code == 403
    assert staff_a.post(f"{base_a}/r/{key}/delete").status_code == 403

    # delete
    events = audit_count()
    response = lead_a.post(f"{base_a}/r/{key}/delete")
    assert response.status_code == 302
    assert db.session.execute(sa.select(Resource).where(Resource.key == key)).scalar_one_or_none() is None
    assert len(_events("library.resource_deleted", item.id)) == 1
    assert audit_count() == events + 1
    assert lead_a.get(f"{base_a}/r/{key}").status_code == 404
    assert ranked_ids(a.school, "quillfeather") == []
    _fts_in_step(item.id, [])
    assert "Quillfeather" not in lead_a.get(f"{base_a}/?q=quillfeather").get_data(as_text=True)


@pytest.mark.parametrize("role", ["staff", "hr", "accreditor"])
def test_only_managers_may_add_a_resource(app, role):
    a, _ = build_worlds()
    client = sign_in(app.test_client(), a.members[role].user)
    before = len(_own(a.school))
    assert client.get(f"/s/{a.school.slug}/library/new").status_code == 403
    assert client.post(f"/s/{a.school.slug}/library/new", data=NEW).status_code == 403
    assert len(_own(a.school)) == before
    assert (
        client.post(
            f"/s/{a.school.slug}/library/r/{a.objects['key']}/edit", data={**NEW, "title": "Changed"}
        ).status_code
        == 403
    )
    db.session.expire_all()
    title = db.session.execute(sa.select(Resource.title).where(Resource.key == a.objects["key"])).scalar_one()
    assert title == "Own policy plain"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        " JavaScript:alert(document.cookie)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "//evil.example/x",
        "ftp://files.example.org/policy.pdf",
        "intranet/policy",
    ],
)
def test_a_link_that_is_not_http_is_refused(lead_school, url):
    school, client, _ = lead_school
    events = audit_count()
    response = client.post(f"/s/{school.slug}/library/new", data={**NEW, "url": url})
    assert response.status_code == 400
    assert "Give a full web address starting with https://" in text_of(response)
    assert _own(school) == []
    assert audit_count() == events


def test_an_edit_to_a_non_http_link_is_refused(app):
    a, _ = build_worlds()
    client = sign_in(app.test_client(), a.members["lead"].user)
    key = a.objects["key"]
    response = client.post(
        f"/s/{a.school.slug}/library/r/{key}/edit", data={**NEW, "url": "javascript:alert(1)"}
    )
    assert response.status_code == 400
    assert "Give a full web address starting with https://" in text_of(response)
    db.session.expire_all()
    assert (
        db.session.execute(sa.select(Resource.url).where(Resource.key == key)).scalar_one()
        == "https://example.org/policy"
    )


def test_a_resource_needs_a_title_and_a_known_section(lead_school):
    school, client, _ = lead_school
    assert client.post(f"/s/{school.slug}/library/new", data={**NEW, "title": ""}).status_code == 400
    assert client.post(f"/s/{school.slug}/library/new", data={**NEW, "sections": []}).status_code == 400
    assert (
        client.post(
            f"/s/{school.slug}/library/new", data={**NEW, "sections": ["no-such-section"]}
        ).status_code
        == 400
    )
    assert _own(school) == []


CHECKLIST = "safer-recruitment-checklist"


def test_shared_resources_cannot_be_edited_or_deleted_through_a_school(app):
    a, b = build_worlds()
    client = sign_in(app.test_client(), a.members["lead"].user)
    base = f"/s/{a.school.slug}/library"
    shared = db.session.execute(sa.select(Resource).where(Resource.key == CHECKLIST)).scalar_one()
    before = (shared.title, shared.url, shared.summary)
    assert client.get(f"{base}/r/safer-recruitment-checklist/edit").status_code == 404
    assert client.post(f"{base}/r/safer-recruitment-checklist/edit", data=NEW).status_code == 404
    assert client.post(f"{base}/r/safer-recruitment-checklist/delete").status_code == 404
    # nor another school's own resource
    assert client.post(f"{base}/r/{b.objects['key']}/edit", data=NEW).status_code == 404
    assert client.post(f"{base}/r/{b.objects['key']}/delete").status_code == 404
    db.session.expire_all()
    shared = db.session.execute(sa.select(Resource).where(Resource.key == CHECKLIST)).scalar_one()
    assert (shared.title, shared.url, shared.summary) == before
    assert db.session.execute(sa.select(Resource).where(Resource.key == b.objects["key"])).scalar_one()
    page = client.get(f"{base}/r/safer-recruitment-checklist").get_data(as_text=True)
    assert "/edit" not in page and "/delete" not in page


# --- Used by ---------------------------------------------------------------------------------------------


def _uses(key):
    return [
        (f["title"], r)
        for f in FRAMEWORKS.values()
        for s in f["sections"]
        for r in s["requirements"]
        if key in r.get("resources", [])  # a same_as reference names none
    ]


def test_a_resource_page_lists_the_requirements_that_use_it(app):
    a, _ = build_worlds()
    for role in ("lead", "staff"):
        client = sign_in(app.test_client(), a.members[role].user)
        text = text_of(client.get(f"/s/{a.school.slug}/library/r/safer-recruitment-checklist"))
        assert "Used by" in text and "Safer Recruitment Checklist" in text and "step" in text
        uses = _uses("safer-recruitment-checklist")
        assert len(uses) >= 10
        positions = {(f.title, r.key): r.position for f in latest_versions() for r in f.requirements}
        for framework_title, req in uses:
            position = positions[(framework_title, req["key"])]
            assert f"{framework_title}, step {position}: {req['title']}" in text, (role, req["key"])
        assert text.count(", step ") == len(uses)


def test_a_resource_nobody_uses_says_so(lead_school):
    school, client, _ = lead_school
    used = {
        k
        for f in FRAMEWORKS.values()
        for s in f["sections"]
        for r in s["requirements"]
        for k in r.get("resources", [])
    }
    unused = sorted(set(SHARED_KEYS) - used)
    assert unused
    text = text_of(client.get(f"/s/{school.slug}/library/r/{unused[0]}"))
    assert "No framework requirement points to this resource yet." in text
    assert ", step " not in text
    assert "No framework requirement points" not in text_of(
        client.get(f"/s/{school.slug}/library/r/safer-recruitment-checklist")
    )


def test_used_by_shows_only_the_newest_framework_version(lead_school):
    school, client, _ = lead_school
    text = (SEEDS / "frameworks" / "recruitment.yaml").read_text(encoding="utf-8")
    text = text.replace('version: "2026.1"', 'version: "2099.1"', 1)
    text = text.replace("title: Full application form received", "title: Full application form checked", 1)
    load_framework(parse_framework(text, "recruitment-2099.yaml", set(SHARED_KEYS)))
    db.session.commit()

    page = text_of(client.get(f"/s/{school.slug}/library/r/safer-recruitment-checklist"))
    assert "Full application form checked" in page
    assert "Full application form received" not in page
    assert page.count(", step ") == len(_uses("safer-recruitment-checklist"))


# --- framework pages -------------------------------------------------------------------------------------


def test_the_frameworks_page_lists_the_four_templates_with_their_label(app):
    a, _ = build_worlds()
    for role in ("lead", "head", "hr"):
        client = sign_in(app.test_client(), a.members[role].user)
        response = client.get(f"/s/{a.school.slug}/frameworks/")
        assert response.status_code == 200, role
        text = text_of(response)
        for key, data in FRAMEWORKS.items():
            assert data["title"] in text
            assert f'href="/s/{a.school.slug}/frameworks/{key}"' in response.get_data(as_text=True)
        assert text.count(STARTER_LABEL) == len(FRAMEWORKS) == 4


def test_each_framework_page_shows_every_requirement(app):
    a, _ = build_worlds()
    client = sign_in(app.test_client(), a.members["hr"].user)
    for key, data in FRAMEWORKS.items():
        response = client.get(f"/s/{a.school.slug}/frameworks/{key}")
        assert response.status_code == 200, key
        text = text_of(response)
        assert data["title"] in text and STARTER_LABEL in text
        for section in data["sections"]:
            assert section["title"] in text, (key, section["key"])
            for req in section["requirements"]:
                assert req["title"] in text, (key, req["key"])
        same = client.get(f"/s/{a.school.slug}/frameworks/{key}?version={quote(data['version'])}")
        assert same.status_code == 200
        assert client.get(f"/s/{a.school.slug}/frameworks/{key}?version=nope").status_code == 404
    assert client.get(f"/s/{a.school.slug}/frameworks/no-such-framework").status_code == 404


@pytest.mark.parametrize("role", ["staff", "accreditor"])
def test_framework_pages_are_for_the_team_that_runs_them(app, role):
    a, _ = build_worlds()
    client = sign_in(app.test_client(), a.members[role].user)
    assert client.get(f"/s/{a.school.slug}/frameworks/").status_code == 403
    assert client.get(f"/s/{a.school.slug}/frameworks/recruitment").status_code == 403


def test_platform_admin_framework_pages(app):
    a, _ = build_worlds()
    plain = sign_in(app.test_client(), a.members["lead"].user)
    admin_user = a.members["head"].user
    admin_user.is_platform_admin = True
    db.session.commit()
    admin = sign_in(app.test_client(), admin_user)

    response = admin.get("/admin/frameworks")
    assert response.status_code == 200
    text = text_of(response)
    for key, data in FRAMEWORKS.items():
        assert data["title"] in text
        assert f'href="/admin/frameworks/{key}"' in response.get_data(as_text=True)
    for key, data in FRAMEWORKS.items():
        response = admin.get(f"/admin/frameworks/{key}")
        assert response.status_code == 200
        text = text_of(response)
        assert all(r["title"] in text for s in data["sections"] for r in s["requirements"])
    assert admin.get("/admin/frameworks/recruitment?version=nope").status_code == 404
    assert admin.get("/admin/frameworks/no-such-framework").status_code == 404

    assert plain.get("/admin/frameworks").status_code == 403
    assert plain.get("/admin/frameworks/recruitment").status_code == 403
    anonymous = app.test_client().get("/admin/frameworks")
    assert anonymous.status_code in (302, 401) and "Safer Recruitment" not in anonymous.get_data(as_text=True)


# --- query budget ------------------------------------------------------------------------------------------


def _queries(client, url):
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    client.get(url)  # warm up: the first request of a session may do one-off work
    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200, url
    return len(statements), response


def test_library_pages_run_a_fixed_number_of_queries(app, make_school, make_member):
    counts = {}
    for size in (1, 30):
        school = make_school()
        lead = make_member(school, "lead")
        keys = [
            add_school_resource(
                school,
                title=f"Zephyrine handbook part {n}",
                url="https://example.org/h",
                publishers="Our school",
                summary="A part of the staff handbook.",
                sections=["policies-procedures", "introduction"],
                tags=["Handbook", f"Part {n}"],
            ).key
            for n in range(size)
        ]
        db.session.commit()
        client = sign_in(app.test_client(), lead.user)
        base = f"/s/{school.slug}/library"
        for name, url in [
            ("search", f"{base}/?q=zephyrine+handbook"),
            ("landing", f"{base}/"),
            ("section", f"{base}/?section=policies-procedures"),
            ("tag", f"{base}/?tag=topic:Handbook"),
            ("own resource", f"{base}/r/{keys[0]}"),
            ("shared resource", f"{base}/r/safer-recruitment-checklist"),
        ]:
            n, response = _queries(client, url)
            counts[(name, size)] = n
            if name in ("search", "tag"):
                assert total_of(response) == size
                assert len(result_keys(response)) == min(size, 20)
    for name in ("search", "landing", "section", "tag", "own resource", "shared resource"):
        assert counts[(name, 1)] == counts[(name, 30)], (name, counts[(name, 1)], counts[(name, 30)])
        assert counts[(name, 1)] > 0
