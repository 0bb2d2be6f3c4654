-- Create the simulation results table when missing (shape of the registered `simulation_frame`).
create table if not exists simulation_results as
select * from simulation_frame
limit 0
