"""labkit — an offline-first AI lab kit runtime for school labs on Raspberry Pi."""

__version__ = "0.1.0"
