#!/usr/bin/env python3
"""Inventory helpers.

The module docstring spans lines; cloc counts it as comment.
"""

import os
import re  # a trailing comment leaves the line code

PATTERN = re.compile(r"#\s*(\w+)")  # '#' inside a string is not a comment
URL = "http://example.com/#anchor"
GLOB = '**/*.txt'
EMPTY = ''


class Store(object):
    '''A store with a single-quoted docstring.'''

    def __init__(self, root):
        """Open the store.

        Args:
            root: the directory.
        """
        self.root = root
        self.items = {}

    def query(self, name):
        sql = """
            SELECT *
            FROM items  -- not a comment either
            WHERE name = ?
        """
        return sql, name

    def describe(self):
        # A comment line.
        text = ("first line "
                "second line # still a string")
        return text + \
            "continued"


def parse(line):
    """One-line docstring."""
    if not line or line.startswith("#"):
        return None
    key, _, value = line.partition("=")
    return key.strip(), value.strip()


if __name__ == "__main__":
    for arg in os.sys.argv[1:]:
        print(parse(arg))
