"""Side-by-side throughput and memory benchmarks of snnsim against Brian2 and NEST."""
