-- Append the registered `simulation_frame` (columns matched by name).
insert into simulation_results by name
select * from simulation_frame
