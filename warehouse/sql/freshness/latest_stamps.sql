-- The newest stamp of every output.
select output, ref, inputs, built_at
from output_stamps
qualify row_number() over (partition by output order by built_at desc) = 1
