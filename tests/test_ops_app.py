"""The app's freshness sidebar and the Data page's refresh modes (AppTest, sign-in off)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.test_app import open_tab

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def test_sidebar_warns_when_outputs_are_missing_or_older_than_the_data(
    monkeypatch, demo_db_master: Path, loopback_app: None
) -> None:
    monkeypatch.setenv("SHELFWISE_DB", str(demo_db_master))
    monkeypatch.setenv("SHELFWISE_AUTH", "0")
    at = AppTest.from_file(APP, default_timeout=600)
    at.run()
    assert not at.exception, at.exception
    text = " ".join(m.value for m in at.sidebar.markdown)
    assert "Data as of" in text and "2026-10-31" in text
    for label in ("Model trained", "Forecast as of", "Plan as of"):
        assert label in text
    warning = " ".join(w.value for w in at.sidebar.warning)
    assert "older than the data" in warning and "no model yet" in warning
    at.switch_page("pages/data.py").run()
    assert not at.exception, at.exception
    open_tab(at, "data_tab", "Refresh")
    mode = at.radio(key="data_refresh_mode")
    assert mode.value == "Changed since built"
    assert mode.options == ["Changed since built", "Only missing", "All"]
