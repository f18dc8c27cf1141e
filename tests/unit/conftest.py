"""Unit tests run on tiny random models only: asking for the bundled model here is an error."""

import pytest


@pytest.fixture(scope="session")
def smollm2():
    pytest.fail("unit tests never load the real model (it takes seconds and hides slow tests); "
                "move this test to tests/integration or use the `tiny` fixture")
