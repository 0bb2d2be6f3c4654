"""Services above the packages: the refresh pipeline, app sign-in and the dashboard reads.

Layer: above `warehouse`, `recsys` and `forecasting` (imports them directly), below `app.py`,
`pages/` and the HTTP API. Nothing here imports streamlit.
"""
