-- Replace the app's recommendations table from the registered frame `recommendations_frame`.
create or replace table recommendations as
select customer_id, cast(rank as integer) as rank, product_id, description, score, reason, model
from recommendations_frame
order by customer_id, rank
