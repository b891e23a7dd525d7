"""labkit benchmarks: `make bench` (python -m bench) runs every module here with a main()."""
