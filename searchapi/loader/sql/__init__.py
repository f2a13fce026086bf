"""The world schema, as ordered SQL files (a package so the wheel ships them)."""
