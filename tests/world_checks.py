"""Recruitment-check objects for the two-school world: a second person on the register (a leaver-to-be, so
that marking them as left does not close the checks the other suites use), and the form values of a check's
page and of "Mark as left", so the cross-tenant, role, CSRF and POST-fuzz suites cover those routes."""

from datetime import date

from tracker.people.services import add_person

from .world import ENDPOINT_PARAMS, FORM_DATA, WORLD_BUILDERS


def build_checks(world, marker):
    person = add_person(
        world.school,
        full_name=f"Leaver {marker}",
        email=None,
        category="support",
        start_on=date(2026, 8, 20),
        countries=["Kenya"],
    )
    world.objects.update(leaver_person_id=person.id)


WORLD_BUILDERS.append(build_checks)
ENDPOINT_PARAMS["people.leave"] = {"person_id": "leaver_person_id"}
FORM_DATA.update(
    {
        "left_on": "2026-12-18",
        "leave_reason": "resigned",
        "leave_note": "Moved abroad",
        "document_type": "passport",
        "document_reference": "Ends 1234",
        "covers": "",
    }
)
