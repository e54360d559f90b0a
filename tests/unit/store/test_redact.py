"""What `redact` masks, at the edges of its shortcuts (exact JSON types first, short strings,
keys judged once)."""

from __future__ import annotations

from collections import OrderedDict

from ml_connector.store.redact import MASK, is_secret_key, redact


def test_the_shortest_credential_in_text_is_masked() -> None:
    assert redact("Basic abcdef") == f"Basic {MASK}"
    assert redact("Basic abcde") == "Basic abcde"
    assert redact(["bearer x.y.z-1", "short"]) == [f"bearer {MASK}", "short"]


def test_a_known_secret_is_scrubbed_before_credentials_are_looked_for() -> None:
    assert redact("key hunter22", secrets=["hunter22"]) == f"key {MASK}"
    assert redact({"note": "Bearer hunter22!"}, secrets=["hunter22"]) == {"note": f"Bearer {MASK}!"}


def test_secret_keys_are_masked_in_every_kind_of_mapping_and_every_time() -> None:
    for _ in range(2):
        assert is_secret_key("Api-Auth-ApplicationKey")
        assert not is_secret_key("natural_key")
        assert redact({"Password": "p", "natural_key": "k"}) == {
            "Password": MASK,
            "natural_key": "k",
        }
        assert redact(OrderedDict(token="t", empty="")) == {"token": MASK, "empty": ""}
        assert redact({"nested": [{"secret": "s", "n": 1}]}) == {
            "nested": [{"secret": MASK, "n": 1}]
        }
