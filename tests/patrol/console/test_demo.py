"""``patrol demo``'s set-up in the console's store: the sample township, an admin with a fresh
password, Mandarin and Cantonese messages and a stand-in recording labelled as one, a plan split
over two copters with broadcasts; a second run reuses all of it and loses nothing."""

from __future__ import annotations

from patrol.console.demo import ADMIN, DEMO_GRIDS, RECORDING, TTS_MESSAGES, set_up
from patrol.console.services import Console


def test_set_up_twice_keeps_the_data_and_makes_a_fresh_password(console: Console) -> None:
    first = set_up(console)
    assert console.accounts.authenticate(ADMIN, first.password).role == "admin"
    assert len(first.password) >= 16
    assert {g.name for g in console.planning.grids("grid")} >= set(DEMO_GRIDS)
    assert len(console.planning.grids("no_fly")) == 2
    assert console.site.current.home is not None
    messages = {m.title: m for m in console.library.list()}
    assert sorted(m.language for m in messages.values()) == ["cmn", "cmn", "yue"]
    recording = messages[RECORDING.title]
    assert recording.source == "recording" and recording.settings["original"] == "recording.wav"
    assert "stand-in" in recording.title and "synthesised" in recording.title
    assert all(m.source == "tts" for t, m in messages.items() if t != RECORDING.title)
    plan = first.plan
    assert len(plan.sorties) == 2 and plan.summary["sorties"] == 2
    assert all(d["flight_time_s"] < 300 for d in plan.summary["sortie_details"])  # the battery
    zones = plan.broadcast["zones"]
    assert {z["grid"] for z in zones} == set(DEMO_GRIDS)
    assert all(z["messages"] == [m.id for m in messages.values()] for z in zones)
    console.accounts.add_user("老李", "operator", "his own password")

    second = set_up(console)
    assert second.made == []  # nothing new: the same grids, messages and plan
    assert second.plan.id == plan.id and len(console.planning.plans()) == 1
    assert len(console.library.list()) == 3 and len(console.planning.grids()) == 15
    assert second.password != first.password
    assert console.accounts.authenticate(ADMIN, first.password) is None
    assert console.accounts.authenticate(ADMIN, second.password) is not None
    assert console.accounts.authenticate("老李", "his own password") is not None


def test_a_message_deleted_since_is_made_again_with_a_plan_that_plays_it(console: Console) -> None:
    first = set_up(console)
    cantonese = TTS_MESSAGES[1].title
    console.library.delete(cantonese)
    again = set_up(console)
    assert f"message {cantonese}" in again.made
    assert again.plan.id != first.plan.id  # the first plan's playlists name a message gone
    new_id = console.library.get(cantonese).id
    assert all(new_id in z["messages"] for z in again.plan.broadcast["zones"])
    assert set_up(console).plan.id == again.plan.id
