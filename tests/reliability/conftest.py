"""Puts the kill helpers of killed_run.py on the path of this folder's tests."""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))  # the kill helpers in killed_run.py
