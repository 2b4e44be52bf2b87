from db import clock


def test_stamps_are_monotonic_when_the_wall_clock_steps_back():
    last = 0
    stamps = []
    for wall in [1_000, 1_001, 1_001, 900, 500, 1_002, 1_500]:  # NTP steps back to 900 and 500
        last = clock.next_stamp(last, wall)
        stamps.append(last)
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == len(stamps)
    # While the wall clock lags, the logical counter carries the order.
    assert clock.physical_ms(stamps[3]) == 1_001 and clock.logical(stamps[3]) == 2
    # When the wall clock passes the last stamp again, the counter resets.
    assert stamps[-1] == clock.from_wall(1_500)


def test_observe_moves_past_a_remote_stamp_from_the_future():
    remote = clock.from_wall(10_000) + 7
    local = clock.observe(clock.from_wall(1_000), remote, wall_ms=1_000)
    assert local > remote
    assert clock.next_stamp(local, 1_000) > local


def test_uuid7_keys_are_time_ordered_and_unique():
    ids = [clock.new_id() for _ in range(2000)]
    assert all(i.version == 7 for i in ids)
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
