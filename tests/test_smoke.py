from tests.conftest import login


def test_a_lead_signs_in_and_sees_the_school_home(client, make_school, make_member):
    school = make_school(slug="riverside", name="Riverside Intl")
    lead = make_member(school, "lead", email="lead@riverside.example")
    response = login(client, lead.user.email, follow=True)
    assert response.status_code == 200
    assert "Riverside Intl" in response.get_data(as_text=True)
