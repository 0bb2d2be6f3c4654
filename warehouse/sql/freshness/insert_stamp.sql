INSERT INTO output_stamps VALUES ($output, $ref, $inputs, $built_at)
