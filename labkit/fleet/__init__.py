"""A room of kits managed offline: kits announce themselves with zeroconf, a teacher's lead kit
pairs with them (ed25519, a code shown on the paired kit), then pushes packs, copies rosters,
starts labs and collects portfolios with signed requests. See docs/fleet.md.
"""
