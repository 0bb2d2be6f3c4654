-- Raw landing tables: what the loaders accept, keyed for idempotent re-loads.
-- Codes are kept exactly as printed in the source (VARCHAR), never re-typed.
CREATE TABLE IF NOT EXISTS _meta (key VARCHAR PRIMARY KEY, value VARCHAR);

CREATE TABLE IF NOT EXISTS raw_sales_line (
    line_key VARCHAR NOT NULL,          -- md5 of the source row's identity: re-loads add nothing
    source VARCHAR NOT NULL,            -- e.g. 'demo', 'online_retail', 'sales_panel'
    load_id VARCHAR NOT NULL,
    order_id VARCHAR,                   -- invoice / basket id; NULL for aggregated panels
    sold_at TIMESTAMP NOT NULL,
    store_code VARCHAR NOT NULL,
    customer_code VARCHAR,              -- NULL for anonymous sales
    product_code VARCHAR NOT NULL,
    description VARCHAR,                -- as printed on the line (online retail), may be NULL
    quantity DOUBLE NOT NULL,           -- units; fractional and negative allowed for panels
    unit_price DOUBLE,                  -- price actually paid per unit
    list_price DOUBLE                   -- regular price when known (promotions)
);

CREATE TABLE IF NOT EXISTS raw_product (
    source VARCHAR NOT NULL, load_id VARCHAR NOT NULL,
    product_code VARCHAR NOT NULL, description VARCHAR, category VARCHAR,
    unit_price DOUBLE, unit_cost DOUBLE
);

CREATE TABLE IF NOT EXISTS raw_store (
    source VARCHAR NOT NULL, load_id VARCHAR NOT NULL,
    store_code VARCHAR NOT NULL, store_name VARCHAR, region VARCHAR
);

CREATE TABLE IF NOT EXISTS raw_customer (
    source VARCHAR NOT NULL, load_id VARCHAR NOT NULL,
    customer_code VARCHAR NOT NULL, home_store_code VARCHAR, region VARCHAR, segment VARCHAR
);

CREATE TABLE IF NOT EXISTS raw_inventory (
    source VARCHAR NOT NULL, load_id VARCHAR NOT NULL,
    store_code VARCHAR NOT NULL, product_code VARCHAR NOT NULL, snapshot_date DATE NOT NULL,
    on_hand_units DOUBLE NOT NULL, on_order_units DOUBLE
);

CREATE TABLE IF NOT EXISTS raw_supply (
    source VARCHAR NOT NULL, load_id VARCHAR NOT NULL,
    store_code VARCHAR,                 -- NULL: applies to the product in every store
    product_code VARCHAR NOT NULL,
    lead_time_mean_days DOUBLE, lead_time_sd_days DOUBLE, order_cost DOUBLE,
    holding_cost_rate DOUBLE, min_order_qty DOUBLE, case_pack DOUBLE
);
-- Supplier of the product (optional in `ingest supply`; NULL -> the default supplier).
ALTER TABLE raw_supply ADD COLUMN IF NOT EXISTS supplier_code VARCHAR;

CREATE TABLE IF NOT EXISTS raw_promotion (
    source VARCHAR NOT NULL, load_id VARCHAR NOT NULL,
    promotion_code VARCHAR NOT NULL, store_code VARCHAR, product_code VARCHAR NOT NULL,
    start_date DATE NOT NULL, end_date DATE NOT NULL, discount_pct DOUBLE NOT NULL
);

CREATE TABLE IF NOT EXISTS source_frequency (
    source VARCHAR PRIMARY KEY, frequency VARCHAR NOT NULL  -- 'D' daily or 'W' weekly
);

CREATE TABLE IF NOT EXISTS ref_holiday (
    holiday_date DATE NOT NULL, country VARCHAR NOT NULL, holiday_name VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS quarantine (
    quarantine_key VARCHAR NOT NULL, source VARCHAR NOT NULL, load_id VARCHAR NOT NULL,
    file VARCHAR NOT NULL, row_number BIGINT, reason VARCHAR NOT NULL, record VARCHAR
);

CREATE TABLE IF NOT EXISTS load_log (
    load_id VARCHAR NOT NULL, kind VARCHAR NOT NULL, source VARCHAR NOT NULL,
    file VARCHAR, file_sha256 VARCHAR, started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL, rows_read BIGINT NOT NULL, rows_accepted BIGINT NOT NULL,
    rows_added BIGINT NOT NULL, rows_already_loaded BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL, quarantine_reasons VARCHAR NOT NULL
);
