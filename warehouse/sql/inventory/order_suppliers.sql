-- Supplier and lead time of every store x product (dim_supply, defaults already resolved).
select * from dim_supply
