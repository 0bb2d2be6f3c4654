-- How fresh the warehouse is: the last day with sales and the latest stock snapshot.
select
    (select max(sale_date) from fct_sales_daily) as last_sale,
    (select max(snapshot_date) from fct_inventory) as last_snapshot
