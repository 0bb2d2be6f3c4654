-- Overall simulation results per policy and target.
select *
from simulation_results
where scope = 'overall'
order by target, policy
