"""Writes a large .env for bench/dotenv.sh: LINES physical lines, about
SIZE bytes, in the shapes real files hold (plain, quoted with escapes,
`${…}` references to earlier lines, comments, duplicates, secret-looking
names, a few multi-line values). Deterministic: same arguments, same file."""

import random
import sys

path, lines, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(10)
width = max(20, size // lines - 16)
alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-_./:"


def text(n):
    return "".join(rng.choice(alphabet) for _ in range(n))


out = []
keys = []
i = 0
while len(out) < lines:
    i += 1
    kind = rng.random()
    key = f"SETTING_{i:06d}"
    if kind < 0.04:
        out.append(f"# section {i}: {text(width)}")
        continue
    if kind < 0.07:
        key = f"SERVICE_{i:06d}_TOKEN"
    if kind < 0.70:
        line = f"{key}={text(width)}"
    elif kind < 0.80:
        line = f'{key}="{text(width // 2)}\\t{text(width // 2)}\\n" # quoted'
    elif kind < 0.85:
        line = f"export {key}='{text(width)}'"
    elif kind < 0.92 and keys:
        ref = rng.choice(keys)
        line = f"{key}=${{{ref}}}/{text(width - 20)}${{MISSING_{i}:-fallback}}"
    elif kind < 0.95 and keys:
        key = rng.choice(keys)
        line = f"{key}={text(width)}"
    elif kind < 0.97 and len(out) + 3 < lines:
        line = f'{key}="{text(width // 3)}\n{text(width // 3)}\n{text(width // 3)}"'
    else:
        line = f"{key} = {text(width)}   # trailing comment"
    keys.append(key)
    out.extend(line.split("\n"))
out = out[:lines]
with open(path, "w", encoding="utf-8", newline="") as f:
    f.write("\n".join(out) + "\n")
