"""Archives from outside the kit: one strict reader (`archive`) and signed lab packs (`labpack`)."""
