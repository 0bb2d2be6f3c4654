-- The warehouse's data generations: the newest load id whose rows are present, per input.
-- Load ids are time-ordered (warehouse.load.new_load_id), so max() is the latest load. The
-- holiday calendar's generation is the country set for it (NULL until one is set: GB).
select
    (select max(load_id) from raw_sales_line) as sales,
    (select max(load_id) from raw_inventory) as stock,
    (select max(load_id) from raw_supply) as supply,
    (select max(load_id) from raw_promotion) as promotions,
    (select max(value) from _meta where key = 'holiday_country') as calendar,
    (select max(load_id) from load_log) as data,
    (select max(finished_at) from load_log) as loaded_at,
    (select max(sold_at) from raw_sales_line)::date as last_sale
