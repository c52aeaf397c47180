# Stands in for ansible-test's pip bootstrap script (get-pip.py, which
# ansible-test downloads from ci-files.testing.ansible.com, a host not every
# CI can reach). scripts/test-linux.sh copies it to where ansible-test caches
# that script (~/.ansible/test/cache/get_pip_<version>.py) with the pip wheel
# of that version beside it in wheels/. ansible-test runs it with get-pip.py's
# arguments: pip's install options and packages, plus --no-setuptools and
# --no-wheel, which only get-pip.py knows.
import glob
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
wheels = os.path.join(here, "wheels")
found = sorted(glob.glob(os.path.join(wheels, "pip-*.whl")))
if not found:
    sys.exit("no pip wheel in %s: run scripts/test-linux.sh" % wheels)
# pip runs from its wheel, as get-pip.py runs it from the zip it embeds.
sys.path.insert(0, found[-1])

from pip._internal.cli.main import main  # noqa: E402  pylint: disable=wrong-import-position

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(main(["install", "--no-index", "--find-links", wheels] + args))
