"""Atomic writes: the target is either the old file or the new one, never a part; a failed write leaves no trace."""

import os

import pytest

from tfgan_eff import files


def test_writes_create_the_directory_and_replace_whole_files(tmp_path):
    path = tmp_path / "a" / "b.json"
    assert files.write_json(str(path), {"x": 1, "y": float("nan")}) == str(path)
    assert files.read_json(str(path))["x"] == 1
    files.write_text(str(path), "{}")
    assert files.read_json(str(path)) == {} and os.listdir(path.parent) == ["b.json"]
    assert oct(path.stat().st_mode & 0o777) == "0o644"


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "image.png"
    files.write_bytes(str(path), b"old")

    def half_then_fail(tmp_path_):
        assert tmp_path_.endswith("-image.png")  # writers that pick the format by suffix still see it
        with open(tmp_path_, "wb") as f:
            f.write(b"ne")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        files.atomic_write(str(path), half_then_fail)
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["image.png"]


def _half_then_fail(tmp_dir):
    with open(os.path.join(tmp_dir, "a"), "w", encoding="utf-8") as f:
        f.write("ne")
    raise OSError("disk full")


def test_a_directory_is_swapped_in_whole_with_the_umask_mode(tmp_path):
    def write(content):
        def fill(tmp_dir):
            with open(os.path.join(tmp_dir, "a"), "w", encoding="utf-8") as f:
                f.write(content)
        return fill

    path = tmp_path / "d"
    assert files.atomic_write_dir(str(path), write("old")) == str(path)
    assert os.stat(path).st_mode & 0o777 == files.DIR_MODE  # not mkdtemp's 0700: shared work dirs stay readable
    with pytest.raises(OSError, match="disk full"):
        files.atomic_write_dir(str(path), _half_then_fail)
    assert (path / "a").read_text() == "old" and os.listdir(tmp_path) == ["d"]  # the failed write left no trace
    files.atomic_write_dir(str(path), write("new"))
    assert (path / "a").read_text() == "new" and os.listdir(tmp_path) == ["d"]  # the old tree removed
