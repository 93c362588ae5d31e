"""Policy profiles load from files, refuse bad data at start, and cite their own sections."""

from datetime import date
from pathlib import Path

import pytest

from app.policy_files import BUILT_IN, load_directory, load_profile
from domain.policy import Action, Authority, PolicyProfile, PolicyViolation

TODAY = date(2026, 12, 6)
DEPARTMENTS = {
    "minneapolis-mn": "Minneapolis",
    "alsip-il": "Alsip",
    "columbia-mo": "Columbia",
    "oconomowoc-wi": "Oconomowoc",
    "kenosha-wi": "Kenosha",
}


def profile(**authorities: Authority) -> PolicyProfile:
    return PolicyProfile(
        policy_id="test",
        version=1,
        effective=date(2026, 1, 1),
        title="Test",
        ranks=("officer", "sergeant", "lieutenant", "chief"),
        authorities={Action(k): v for k, v in authorities.items()},
        default_section="T 1",
    )


DEPARTMENT_FILES = [
    path for path in sorted((BUILT_IN / "profiles").glob("*.toml")) if path.stem != "generic"
]


@pytest.mark.parametrize("path", DEPARTMENT_FILES, ids=lambda path: path.stem)
def test_every_rule_of_a_department_profile_cites_that_department(path: Path) -> None:
    loaded = load_profile(path)
    policy_id = loaded.policy_id
    sections = [a.section for a in loaded.authorities.values()]
    sections += [o.section for o in loaded.obligations]
    for rule in (loaded.emergency_request, loaded.emergency_response):
        sections += [rule.section, *(o.section for o in rule.owes)] if rule else []
    prior = loaded.prior_approval
    sections += [prior.section, prior.made_by_approver] if prior else []

    assert sections
    assert all(section.startswith(DEPARTMENTS[policy_id]) for section in sections)


def test_the_built_in_directory_gives_each_department_its_own_profile() -> None:
    directory = load_directory()
    profiles = {
        a.code: directory.profile_for(a.code, date(2026, 11, 1)).policy_id
        for a in directory.agencies()
    }

    assert {profiles[c] for c in ("MPD-MN", "ALSIP-PD", "CPD-MO", "OPD-WI", "KPD")} == set(
        DEPARTMENTS
    )
    assert profiles["KCSD"] == "generic"


def test_a_profile_whose_minimum_rank_is_not_one_of_its_ranks_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'id = "bad"\nversion = 1\neffective = 2026-01-01\ntitle = "B"\ndefault_section = "B 1"\n'
        'ranks = ["officer"]\n[authorities.approve]\nsection = "B 2"\nmin_rank = "colonel"\n'
    )

    with pytest.raises(ValueError, match="colonel"):
        load_profile(bad)


def test_the_touched_department_profiles_have_a_version_2_from_2026_12_06() -> None:
    directory = load_directory()
    versions = {
        code: [directory.profile_for(code, day).version for day in (date(2026, 12, 5), TODAY)]
        for code in ("ALSIP-PD", "CPD-MO", "OPD-WI", "KPD", "MPD-MN")
    }

    assert versions == {
        "ALSIP-PD": [1, 2],
        "CPD-MO": [1, 2],
        "OPD-WI": [1, 2],
        "KPD": [1, 2],
        "MPD-MN": [1, 1],
    }


def test_two_files_with_the_same_profile_version_stop_the_start(tmp_path: Path) -> None:
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "again.toml").write_text(
        (BUILT_IN / "profiles" / "kenosha-wi.toml").read_text()
    )

    with pytest.raises(ValueError, match="kenosha-wi v1 is given twice"):
        load_directory(tmp_path)


def test_a_recipient_role_must_name_one_of_the_recipients(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'id = "bad"\nversion = 1\neffective = 2026-01-01\ntitle = "B"\ndefault_section = "B 1"\n'
        'ranks = ["officer"]\n[[obligations]]\ntrigger = "request_made"\nkind = "notify"\n'
        'recipients = ["Chief"]\nrecipient_roles = { Commander = "commander" }\nsection = "B 2"\n'
    )

    with pytest.raises(ValueError, match="recipient_roles names no recipient: Commander"):
        load_profile(bad)


def test_a_profile_with_an_unknown_field_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'id = "bad"\nversion = 1\neffective = 2026-01-01\ntitle = "B"\ndefault_section = "B 1"\n'
        'ranks = ["officer"]\nmay_request = "anyone"\n'
    )

    with pytest.raises(ValueError, match="may_request"):
        load_profile(bad)


def test_an_agency_naming_an_unknown_profile_stops_the_start(tmp_path: Path) -> None:
    (tmp_path / "agencies.toml").write_text(
        '[[agencies]]\ncode = "X"\nname = "X"\njurisdiction = "X"\nprofile = "nowhere"\n'
    )

    with pytest.raises(ValueError, match="nowhere"):
        load_directory(tmp_path)


def test_a_minimum_rank_admits_that_rank_and_every_rank_above() -> None:
    rules = profile(approve=Authority("T 2", min_rank="sergeant"))

    assert [rules.permits(Action.APPROVE, r, ()) for r in ("officer", "sergeant", "chief")] == [
        False,
        True,
        True,
    ]
    assert not rules.permits(Action.APPROVE, "colonel", ())


def test_a_role_admits_whatever_the_rank_and_names_are_normalized() -> None:
    rules = profile(request=Authority("T 3", roles=("watch_commander",)))

    assert rules.permits(Action.REQUEST, "Officer", ("Watch Commander",))
    with pytest.raises(PolicyViolation, match=r"only watch_commander may request \(test v1, T 3\)"):
        rules.authorize(Action.REQUEST, "officer", ())


def test_an_action_without_a_rule_is_open_to_every_member_under_the_default_section() -> None:
    rules = profile()

    assert rules.authorize(Action.RECALL, "officer", ()).section == "T 1"
