"""Pipelines: a student's device composed from blocks, without code (docs/pipeline.md).

    source (camera, microphone, a button or sensor) → task (faces, hands, a teachable model …)
    → rule (`count >= 2`, a label, held for N seconds) → action (RGB red, say 请排队 …)

A pipeline is a YAML file (`spec.py` reads and checks it, naming the line of any mistake);
`runner.py` builds the kit's real devices from it and runs it until stopped, headless, from
`labkit pipeline run FILE`, a systemd unit (`systemd.py`) or the page.
"""
