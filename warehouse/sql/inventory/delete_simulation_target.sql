-- Drop earlier results of one target before inserting the new ones.
delete from simulation_results
where target = $target
