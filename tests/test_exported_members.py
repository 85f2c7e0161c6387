"""What the package exports is a decision: this test makes changing it deliberate."""

import sms123_sync


def test_all_names_exist() -> None:
    for name in sms123_sync.__all__:
        assert hasattr(sms123_sync, name), name


def test_all_is_sorted_and_unique() -> None:
    assert list(sms123_sync.__all__) == sorted(set(sms123_sync.__all__))
