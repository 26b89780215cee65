"""Tests for checks/verify/libs.py: names the installed numpy removed, used by the code that will run."""

import pytest


def test_a_name_numpy_removed_is_found_in_code_not_in_strings_or_comments(tmp_path):
    """kha-white/mokuro#38: comic_text_detector/utils/db_utils.py's `.astype(np.int)` under numpy 1.24+ ("module
    'numpy' has no attribute 'int'"; numpy's __former_attrs__, 1.24's expired deprecations). The names and the release
    come from the installed numpy's own lists; a string or a comment naming it is not a use, nor a hasattr test."""
    import numpy

    from checks.verify import libs

    removed = libs._removed_names(numpy)
    if not removed:
        pytest.skip("numpy %s lists no removed name it lacks" % numpy.__version__)
    name, release = sorted(removed.items())[0]
    quiet = tmp_path / "quiet.py"
    quiet.write_text(
        '"""np.%s was removed"""\n# np.%s\nif hasattr(np, "%s"): x = np.%s\n'
        'if np.lib.NumpyVersion(np.__version__) < "2.0.0":\n    y = np.%s\n' % ((name,) * 5)
    )
    used = tmp_path / "db_utils.py"
    used.write_text("import numpy as np\n\n\ndef f(box):\n    return box.astype(np.%s)\n" % name)
    assert libs.removed_numpy_use(numpy, [(str(quiet), "quiet")]) is None
    assert libs.removed_numpy_use(numpy, [(str(quiet), "quiet"), (str(used), "comic_text_detector")]) == (
        str(used),
        5,
        name,
        release,
        "comic_text_detector",
    )
