-- Sources of this warehouse whose sales are weekly (the optimizer needs daily demand).
select source
from source_frequency
where frequency = 'W'
