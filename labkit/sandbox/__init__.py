"""Student programs in a child process: limits, no network, the kit's hardware through the kit.

- `limits.Limits`        what a program may use (time, memory, files, processes, output)
- `runner.Sandbox`       starts a program (`boot.py` shuts the doors in the child) and
                         reports its output and why it ended
- `link.KitLink`         the kit's side: pins, camera frames and speech on request, under
                         the kit's pin lease
- `kitpins`              the program's side: a gpiozero pin factory that forwards to the kit

See docs/code-lab.md for what a program sees and how to run one from a terminal.
"""
