"""The base of every layer: settings (every path from IMW_HOME) and file helpers."""
