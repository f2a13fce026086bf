"""The test cluster's CPU mask for receive steering (sysfs takes 32-bit hex groups)."""

import pytest

from controlplane.devcluster.netns import cpu_mask


@pytest.mark.parametrize(
    ("cpus", "mask"),
    [
        (1, "1"),
        (2, "3"),
        (32, "ffffffff"),
        (33, "1,ffffffff"),
        (70, "3f,ffffffff,ffffffff"),
    ],
)
def test_the_mask_covers_every_cpu_in_32_bit_groups(cpus: int, mask: str) -> None:
    assert cpu_mask(cpus) == mask
    assert int(mask.replace(",", ""), 16) == (1 << cpus) - 1
