"""A library a lead can trust: superseded guidance is marked wherever it is linked, the NCMEC CyberTipline is
offered on the reporting-contacts items, resources for the school's country are picked out, one language is
one filter, and the front page says which arrangement is ours."""

import importlib.util
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations

from tracker.extensions import db
from tracker.library.models import ResourceTag
from tracker.library.vocabulary import LANGUAGES, country_key, language_code
from tracker.tracking.models import Item
from tracker.tracking.services import start_year

from .test_library import text_of
from .world import sign_in

MIGRATION = (
    Path(__file__).resolve().parent.parent
    / "migrations/versions/20261130_c0ffee000095_library_files_and_currency.py"
)


@pytest.fixture
def school_with_year(app, make_school, make_member):
    def make(country="Thailand"):
        school = make_school(country=country)
        lead = make_member(school, "lead")
        start_year(school, 2026)
        db.session.commit()
        return school, sign_in(app.test_client(), lead.user)

    return make


def _item(school, requirement_key):
    return (
        db.session.execute(
            sa.select(Item).where(Item.school_id == school.id, Item.requirement_key == requirement_key)
        )
        .scalars()
        .first()
    )


def _block(page, heading):
    """The <dd> after a <dt> of the item page's guidance."""
    found = re.search(rf"<dt>{heading}</dt><dd>(.*?)</dd>", page.get_data(as_text=True), re.S)
    return found.group(1) if found else ""


# --- currency ----------------------------------------------------------------------------------------------


def test_the_2016_sexting_guidance_says_what_replaced_it(school_with_year):
    school, client = school_with_year()
    page = client.get(f"/s/{school.slug}/library/r/sexting-in-schools")
    text = text_of(page)
    assert "Superseded. Newer guidance replaces this resource: Sharing nudes and semi-nudes" in text
    assert f'href="/s/{school.slug}/library/r/sharing-nudes-semi-nudes"' in page.get_data(as_text=True)
    newer = text_of(client.get(f"/s/{school.slug}/library/r/sharing-nudes-semi-nudes"))
    assert "Superseded" not in newer and "2020-12" in newer and "2024" in newer


def test_superseded_guidance_is_marked_in_library_lists(school_with_year):
    school, client = school_with_year()
    for url in (
        f"/s/{school.slug}/library/?q=sexting",
        f"/s/{school.slug}/library/?section=reporting-support",
        f"/s/{school.slug}/library/?tag=topic:Sexting",
    ):
        body = client.get(url).get_data(as_text=True)
        entry = re.search(r'library/r/sexting-in-schools">.*?</li>', body, re.S).group(0)
        assert "Superseded" in entry and "sharing-nudes-semi-nudes" in entry, url


def test_item_pages_mark_a_superseded_resource(school_with_year):
    school, client = school_with_year()
    item = _item(school, "division-safeguarding-session")  # links the 2016 sexting guidance
    resources = _block(client.get(f"/s/{school.slug}/items/{item.id}"), "Resources")
    assert "sexting-in-schools" in resources
    assert "Superseded" in resources and "sharing-nudes-semi-nudes" in resources


def test_framework_pages_mark_a_superseded_resource(school_with_year):
    school, client = school_with_year()
    body = client.get(f"/s/{school.slug}/frameworks/action-plan").get_data(as_text=True)
    links = re.findall(r'library/r/sexting-in-schools">[^<]*</a>(.{0,160})', body, re.S)
    assert links, "the action plan links the 2016 sexting guidance"
    assert all("Superseded" in after and "Sharing nudes and semi-nudes" in after for after in links)


# --- the CyberTipline ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("requirement", ["publish-reporting-contacts", "update-local-contacts"])
def test_the_cybertipline_is_offered_on_the_reporting_contacts_items(school_with_year, requirement):
    school, client = school_with_year(country="")
    item = _item(school, requirement)
    also = _block(client.get(f"/s/{school.slug}/items/{item.id}"), "Also useful")
    assert "NCMEC CyberTipline" in also and "?from=" in also


def test_the_cybertipline_page_leads_to_the_report_form(school_with_year):
    school, client = school_with_year()
    page = client.get(f"/s/{school.slug}/library/r/ncmec-cybertipline")
    assert 'href="https://report.cybertip.org/"' in page.get_data(as_text=True)
    assert "any country" in text_of(page)


def test_an_item_without_the_tag_shows_no_related_block(school_with_year):
    school, client = school_with_year()
    item = _item(school, "review-anonymous-reporting")
    assert _block(client.get(f"/s/{school.slug}/items/{item.id}"), "Also useful") == ""


# --- country fit --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written,expected",
    [
        ("Thailand", "Thailand"),
        ("TH", "Thailand"),
        ("tha", "Thailand"),
        ("  thailand ", "Thailand"),
        ("The Philippines", "Philippines"),
        ("PH", "Philippines"),
        ("UK", "United Kingdom"),
        ("England", "United Kingdom"),
        ("Viet Nam", "Vietnam"),
        ("México", "Mexico"),
        ("Lao PDR", "Laos"),
    ],
)
def test_a_country_is_matched_however_it_is_written(written, expected):
    assert country_key(written) == country_key(expected) == expected


@pytest.mark.parametrize("written", ["Thailand", "TH", "thailand"])
def test_the_front_page_shows_resources_for_the_schools_country(school_with_year, written):
    school, client = school_with_year(country=written)
    body = client.get(f"/s/{school.slug}/library/").get_data(as_text=True)
    block = re.search(r'id="country-heading">(.*?)</section>', body, re.S).group(1)
    assert "asean-sexual-offences-law" in block and "asean-digital-age-responses" in block
    assert "philippines-legal-review" not in block and "child-online-protection-india" not in block


def test_no_country_block_for_a_country_without_resources_and_a_hint_without_a_country(school_with_year):
    school, client = school_with_year(country="Narnia")
    assert "For your country" not in text_of(client.get(f"/s/{school.slug}/library/"))
    school, client = school_with_year(country="")
    assert "country is not recorded" in text_of(client.get(f"/s/{school.slug}/library/"))


@pytest.mark.parametrize(
    "requirement",
    [
        "update-local-contacts",
        "publish-reporting-contacts",
        "host-country-law",
        "local-agency-relationships",
        "staff-host-country-context",
    ],
)
def test_local_law_and_reporting_items_show_the_country_resources(school_with_year, requirement):
    school, client = school_with_year(country="PH")
    item = _item(school, requirement)
    assert item is not None, requirement
    block = _block(client.get(f"/s/{school.slug}/items/{item.id}"), "For your country")
    assert "philippines-legal-review" in block and "asean-sexual-offences-law" in block
    assert "?from=" in block


def test_other_items_show_no_country_block(school_with_year):
    school, client = school_with_year(country="PH")
    item = _item(school, "review-anonymous-reporting")
    assert _block(client.get(f"/s/{school.slug}/items/{item.id}"), "For your country") == ""


# --- languages ----------------------------------------------------------------------------------------------


def test_every_stored_language_is_a_code_of_the_vocabulary():
    values = set(
        db.session.execute(sa.select(ResourceTag.value).where(ResourceTag.kind == "language")).scalars()
    )
    assert values <= set(LANGUAGES), values - set(LANGUAGES)
    assert "zh-Hans" in values


def test_chinese_is_one_filter_with_its_display_name(school_with_year):
    school, client = school_with_year()
    body = client.get(f"/s/{school.slug}/library/?q=chinese").get_data(as_text=True)
    facets = re.findall(r"tag=language:([^\"&]+)", body)
    assert facets.count("zh-Hans") == 1 and not any("Chinese" in f for f in facets)
    assert "Chinese (Simplified)</a>" in body
    filtered = client.get(f"/s/{school.slug}/library/", query_string={"tag": "language:zh-Hans"})
    assert "2 resources" in text_of(filtered)


def test_language_names_written_the_old_ways_map_to_one_code():
    assert language_code("Chinese") == language_code("Chinese (Simplified)") == language_code("zh-Hans")
    assert language_code("Klingon") is None


def test_the_migration_rewrites_stored_language_names_as_codes():
    spec = importlib.util.spec_from_file_location("migration_095", MIGRATION)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    tag = (
        db.session.execute(
            sa.select(ResourceTag).where(ResourceTag.kind == "language", ResourceTag.value == "zh-Hans")
        )
        .scalars()
        .first()
    )
    resource_id = tag.resource_id
    db.session.execute(
        sa.update(ResourceTag)
        .where(
            ResourceTag.resource_id == resource_id,
            ResourceTag.kind == "language",
            ResourceTag.value == "zh-Hans",
        )
        .values(value="Chinese")
    )
    db.session.add(ResourceTag(resource_id=resource_id, kind="language", value="Chinese (Simplified)"))
    db.session.flush()
    with Operations.context(MigrationContext.configure(db.session.connection())):
        migration._rename_languages(migration.NAME_TO_CODE)
    values = (
        db.session.execute(
            sa.select(ResourceTag.value).where(
                ResourceTag.resource_id == resource_id, ResourceTag.kind == "language"
            )
        )
        .scalars()
        .all()
    )
    assert (
        sorted(values).count("zh-Hans") == 1
        and "Chinese" not in values
        and "Chinese (Simplified)" not in values
    )


# --- whose arrangement ------------------------------------------------------------------------------------


def test_the_front_page_says_which_arrangement_is_ours(school_with_year):
    school, client = school_with_year()
    text = text_of(client.get(f"/s/{school.slug}/library/"))
    assert "arranged as the portal arranges it" not in text
    assert "The eight sections are the portal's" in text
    assert "Start here pick of each section, are this tracker's own choice, not the portal's" in text
