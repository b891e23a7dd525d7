"""The lab framework: lab folders (labkit/labs/<band>/<id>/lab.yaml) discovered and validated,
run by one runner per kit on a real or simulated clock, graded by a check vocabulary from an
event log. See docs/lab-format.md."""
