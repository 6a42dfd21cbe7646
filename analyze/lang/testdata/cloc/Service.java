/*
 * Copyright notice in a block comment.
 */
package com.example.inventory;

import java.util.List;
import java.util.Map;

/**
 * A service with comment markers inside strings.
 */
public class Service {
    private static final String GLOB = "src/**/*.java"; // ends with */ inside
    private static final String URL = "http://example.com/path";
    private static final char SLASH = '/';
    private static final char QUOTE = '"';

    // A line comment.
    public Service() {
    }

    /* a block comment on one line */
    public int count(List<String> items) {
        int n = 0; /* trailing block comment */
        for (String item : items) {
            if (item.startsWith("//")) {
                continue;
            }
            n++;
        }
        return n;
    }

    public String describe(Map<String, Integer> stock) {
        String text = """
            Text block with /* no comment */ inside
            and // no comment either
            """;
        return text + stock.size();
    }

    /*
     * Multi-line block comment.
     */
    public boolean check(int a, int b) {
        return a > 0 && b > 0 || a == b ? true : false;
    }
}
