"""Services above the packages: the refresh pipeline, app sign-in, the dashboard reads and
the HTTP API's glue (models, dependencies, typed calls).

Layer: above `warehouse`, `recsys` and `forecasting` (imports them directly), below `app.py`,
`pages/` and the HTTP API. Nothing here imports streamlit.
"""
