from labkit.events import EventBus


def test_topic_prefix_matching_and_fanout():
    bus = EventBus()
    bench, everything = bus.subscribe("bench"), bus.subscribe()
    bus.publish("bench.state", {"a": 1})
    bus.publish("vision.face", {"n": 2})
    assert bench.get(timeout=1).data == {"a": 1}
    assert bench.get(timeout=0.05) is None
    assert [everything.get(timeout=1).topic for _ in range(2)] == ["bench.state", "vision.face"]


def test_slow_subscriber_drops_oldest_never_blocks():
    bus = EventBus()
    sub = bus.subscribe("x", maxsize=3)
    for i in range(10):
        bus.publish("x", i)
    assert [sub.get(timeout=1).data for _ in range(3)] == [7, 8, 9]


def test_closed_subscription_receives_nothing():
    bus = EventBus()
    with bus.subscribe("x") as sub:
        assert bus.subscriber_count == 1
    assert bus.subscriber_count == 0
    bus.publish("x", 1)
    assert sub.get(timeout=0.05) is None
