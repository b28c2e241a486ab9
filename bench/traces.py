"""Writes B_TRACES traces of about B_WORDS words (JSON Lines: question,
solution, explanation) for the scoring benchmarks: bench/scale.sh and
bench/fit.sh score the same traces."""
import json
import os
import random

random.seed(7)
words = ("the carry moves to the next column so we add one more ten and write the units digit below "
         "each place value is handled from right to left and the partial sums are checked against the "
         "question before the final answer is written down").split()
for i in range(int(os.environ["B_TRACES"])):
    q = f"What is {random.randint(1000, 9999)} + {random.randint(1000, 9999)}? Show how the columns combine."
    s = str(random.randint(2000, 19998))
    e = " ".join(random.choice(words) for _ in range(int(os.environ["B_WORDS"]) + 10 * i))
    print(json.dumps({"question": q, "solution": s, "explanation": e}))
