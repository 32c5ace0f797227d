"""Reference MAST and AST in PyTorch: the definition the Swift engine is proven equal to.

Both models take log-mel features shaped (B, frames, mel_bins) — time-major, as the
Kaldi fbank produces them — and view them as a one-channel image (B, 1, mel_bins, frames):
height is frequency, width is time. Token grids are (F, T) and tokens are flattened
frequency-major (index f * T + t), as `Tensor.flatten(2)` does.

MAST is built as an MViTv2-style network (see DESIGN.md): pooling attention with depthwise
conv pooling of q/k/v, LayerNorm per head, residual pooling, decomposed relative position
that works on non-square grids, max-pooled skips, and the dimension change inside attention.
Every q stride is a pair (frequency, time): (1, 2) pools along time only (1-D), (2, 2) pools
along both axes (2-D).

State-dict keys are the model file's tensor keys; the Swift engine's weight structs name
them in their comments.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

# LayerNorm epsilon of every norm inside the networks (MViTv2 and timm's ViT use 1e-6);
# AST's classification head keeps nn.LayerNorm's default.
NORM_EPS = 1e-6
AST_HEAD_NORM_EPS = 1e-5


@dataclass
class StageConfig:
    depth: int
    dim: int
    heads: int
    q_stride: tuple[int, int]  # (frequency, time) stride of the stage's first block


@dataclass
class ArchConfig:
    """The architecture; serialised as JSON into the model file's `architecture` metadata."""

    name: str
    family: str  # "mast" or "ast"
    mel_bins: int
    frames: int
    num_classes: int
    patch_kernel: tuple[int, int]
    patch_stride: tuple[int, int]
    patch_padding: tuple[int, int] = (0, 0)
    mlp_ratio: int = 4
    # MAST only
    stages: list[StageConfig] = field(default_factory=list)
    kv_stride: tuple[int, int] = (1, 1)  # kv stride of stage 1; later stages divide it by their cumulative q stride
    pool_kernel: tuple[int, int] = (3, 3)
    # AST only
    depth: int = 0
    dim: int = 0
    heads: int = 0

    @staticmethod
    def from_dict(d: dict) -> "ArchConfig":
        d = dict(d)
        d["stages"] = [StageConfig(s["depth"], s["dim"], s["heads"], tuple(s["q_stride"])) for s in d.get("stages", [])]
        for key in ("patch_kernel", "patch_stride", "patch_padding", "kv_stride", "pool_kernel"):
            if key in d:
                d[key] = tuple(d[key])
        return ArchConfig(**d)

    def to_dict(self) -> dict:
        common = {
            "name": self.name, "family": self.family, "mel_bins": self.mel_bins, "frames": self.frames,
            "num_classes": self.num_classes, "patch_kernel": list(self.patch_kernel),
            "patch_stride": list(self.patch_stride), "patch_padding": list(self.patch_padding),
            "mlp_ratio": self.mlp_ratio,
        }
        if self.family == "mast":
            common.update(
                stages=[{"depth": s.depth, "dim": s.dim, "heads": s.heads, "q_stride": list(s.q_stride)} for s in self.stages],
                kv_stride=list(self.kv_stride), pool_kernel=list(self.pool_kernel),
            )
        else:
            common.update(depth=self.depth, dim=self.dim, heads=self.heads)
        return common


def conv_out(size: int, kernel: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - kernel) // stride + 1


@dataclass
class BlockPlan:
    """One MAST block, fully resolved: what the Swift engine derives from the same config."""

    dim_in: int
    dim_out: int
    heads: int
    q_stride: tuple[int, int]
    kv_stride: tuple[int, int]
    grid_in: tuple[int, int]
    grid_q: tuple[int, int]
    grid_kv: tuple[int, int]
    stage: int


def mast_plan(cfg: ArchConfig) -> list[BlockPlan]:
    k, pad = cfg.pool_kernel, (cfg.pool_kernel[0] // 2, cfg.pool_kernel[1] // 2)
    grid = (conv_out(cfg.mel_bins, cfg.patch_kernel[0], cfg.patch_stride[0], cfg.patch_padding[0]),
            conv_out(cfg.frames, cfg.patch_kernel[1], cfg.patch_stride[1], cfg.patch_padding[1]))
    dim = cfg.stages[0].dim
    cumulative = [1, 1]
    plans = []
    for s, stage in enumerate(cfg.stages):
        for j in range(stage.depth):
            q_stride = tuple(stage.q_stride) if j == 0 else (1, 1)
            if j == 0:
                cumulative = [cumulative[a] * q_stride[a] for a in range(2)]
            kv_stride = tuple(max(cfg.kv_stride[a] // cumulative[a], 1) for a in range(2))
            grid_q = tuple(conv_out(grid[a], k[a], q_stride[a], pad[a]) for a in range(2))
            grid_kv = tuple(conv_out(grid[a], k[a], kv_stride[a], pad[a]) for a in range(2))
            plans.append(BlockPlan(dim, stage.dim, stage.heads, q_stride, kv_stride, grid, grid_q, grid_kv, s))
            dim, grid = stage.dim, grid_q
    return plans


def relative_position_index(q_size: int, k_size: int) -> torch.Tensor:
    """Index into a (2·max(q, k) − 1)-row table for every (query, key) pair along one axis.

    Distances are rescaled when the q and k grids differ, as in MViTv2. Computed in float64 so
    that the truncation to an integer is the same in PyTorch and in Swift's Double.
    """
    q_ratio = max(k_size / q_size, 1.0)
    k_ratio = max(q_size / k_size, 1.0)
    q_pos = torch.arange(q_size, dtype=torch.float64)[:, None] * q_ratio
    k_pos = torch.arange(k_size, dtype=torch.float64)[None, :] * k_ratio
    return (q_pos - k_pos + (k_size - 1) * k_ratio).long()


class PoolingAttention(nn.Module):
    def __init__(self, plan: BlockPlan, pool_kernel: tuple[int, int]):
        super().__init__()
        self.plan = plan
        dim_out, heads = plan.dim_out, plan.heads
        self.head_dim = dim_out // heads
        self.scale = self.head_dim ** -0.5
        self.qkv = nn.Linear(plan.dim_in, 3 * dim_out)
        pad = (pool_kernel[0] // 2, pool_kernel[1] // 2)
        hd = self.head_dim
        # Depthwise pooling convs are shared by all heads: (head_dim, 1, kF, kT).
        self.pool_q = nn.Conv2d(hd, hd, pool_kernel, plan.q_stride, pad, groups=hd, bias=False)
        self.pool_k = nn.Conv2d(hd, hd, pool_kernel, plan.kv_stride, pad, groups=hd, bias=False)
        self.pool_v = nn.Conv2d(hd, hd, pool_kernel, plan.kv_stride, pad, groups=hd, bias=False)
        self.norm_q = nn.LayerNorm(hd, eps=NORM_EPS)
        self.norm_k = nn.LayerNorm(hd, eps=NORM_EPS)
        self.norm_v = nn.LayerNorm(hd, eps=NORM_EPS)
        (qf, qt), (kf, kt) = plan.grid_q, plan.grid_kv
        self.rel_pos_f = nn.Parameter(torch.zeros(2 * max(qf, kf) - 1, hd))
        self.rel_pos_t = nn.Parameter(torch.zeros(2 * max(qt, kt) - 1, hd))
        self.register_buffer("index_f", relative_position_index(qf, kf), persistent=False)
        self.register_buffer("index_t", relative_position_index(qt, kt), persistent=False)
        self.proj = nn.Linear(dim_out, dim_out)

    def _pool(self, x: torch.Tensor, conv: nn.Conv2d, norm: nn.LayerNorm) -> torch.Tensor:
        b, h, n, c = x.shape
        f, t = self.plan.grid_in
        x = x.reshape(b * h, f, t, c).permute(0, 3, 1, 2)
        x = conv(x)
        x = x.reshape(b, h, c, -1).transpose(2, 3)
        return norm(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        heads, hd = self.plan.heads, self.head_dim
        qkv = self.qkv(x).reshape(b, n, 3, heads, hd).permute(2, 0, 3, 1, 4)
        q = self._pool(qkv[0], self.pool_q, self.norm_q)
        k = self._pool(qkv[1], self.pool_k, self.norm_k)
        v = self._pool(qkv[2], self.pool_v, self.norm_v)

        attn = (q * self.scale) @ k.transpose(-2, -1)
        # Decomposed relative position: attn[qf,qt,kf,kt] += q·Rf[qf,kf] + q·Rt[qt,kt].
        (qf, qt), (kf, kt) = self.plan.grid_q, self.plan.grid_kv
        r_q = q.reshape(b, heads, qf, qt, hd)
        rel_f = torch.einsum("bhftc,fkc->bhftk", r_q, self.rel_pos_f[self.index_f])
        rel_t = torch.einsum("bhftc,tkc->bhftk", r_q, self.rel_pos_t[self.index_t])
        attn = attn.view(b, heads, qf, qt, kf, kt)
        attn = attn + rel_f[:, :, :, :, :, None] + rel_t[:, :, :, :, None, :]
        attn = attn.view(b, heads, qf * qt, kf * kt).softmax(dim=-1)

        x = attn @ v + q  # residual pooling
        x = x.transpose(1, 2).reshape(b, qf * qt, heads * hd)
        return self.proj(x)


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class MultiscaleBlock(nn.Module):
    def __init__(self, plan: BlockPlan, cfg: ArchConfig):
        super().__init__()
        self.plan = plan
        self.norm1 = nn.LayerNorm(plan.dim_in, eps=NORM_EPS)
        self.attn = PoolingAttention(plan, cfg.pool_kernel)
        self.proj = nn.Linear(plan.dim_in, plan.dim_out) if plan.dim_in != plan.dim_out else None
        self.norm2 = nn.LayerNorm(plan.dim_out, eps=NORM_EPS)
        self.mlp = Mlp(plan.dim_out, cfg.mlp_ratio * plan.dim_out)

    def _pool_skip(self, x: torch.Tensor) -> torch.Tensor:
        s = self.plan.q_stride
        if s == (1, 1):
            return x
        kernel = tuple(a + 1 if a > 1 else 1 for a in s)
        b, n, c = x.shape
        f, t = self.plan.grid_in
        x = x.transpose(1, 2).reshape(b, c, f, t)
        x = F.max_pool2d(x, kernel, s, tuple(k // 2 for k in kernel))
        return x.flatten(2).transpose(1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x_norm = self.norm1(x)
        skip = self.proj(x_norm) if self.proj is not None else x
        x = self._pool_skip(skip) + self.attn(x_norm)
        return x + self.mlp(self.norm2(x))


class Tagger(nn.Module):
    """What MAST and AST share: logits = head(forward_features(features)); subclasses define
    forward_features (features → pooled embedding, filling `taps` on the way)."""

    head: nn.Linear

    def init_weights(self) -> "Tagger":
        """Initialisation for training from scratch (MViTv2/ViT practice): linear weights from a
        truncated normal with std 0.02 and zero biases; PyTorch's default fan-in scaling let a
        distilled mast-t collapse to input-independent class priors."""
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                nn.init.zeros_(module.bias)
        return self

    def forward(self, features: torch.Tensor, taps: dict | None = None) -> torch.Tensor:
        logits = self.head(self.forward_features(features, taps))
        if taps is not None:
            taps["logits"] = logits
        return logits


class MAST(Tagger):
    def __init__(self, cfg: ArchConfig):
        super().__init__()
        assert cfg.family == "mast"
        self.cfg = cfg
        self.plans = mast_plan(cfg)
        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv2d(1, cfg.stages[0].dim, cfg.patch_kernel, cfg.patch_stride, cfg.patch_padding)
        self.blocks = nn.ModuleList(MultiscaleBlock(p, cfg) for p in self.plans)
        self.norm = nn.LayerNorm(cfg.stages[-1].dim, eps=NORM_EPS)
        self.head = nn.Linear(cfg.stages[-1].dim, cfg.num_classes)

    def forward_features(self, features: torch.Tensor, taps: dict | None = None) -> torch.Tensor:
        """(B, frames, mel) → pooled embedding (B, dim). `taps` collects each stage's output."""
        x = self.patch_embed.proj(features.transpose(1, 2).unsqueeze(1)).flatten(2).transpose(1, 2)
        if taps is not None:
            taps["patch_embed"] = x
        for i, block in enumerate(self.blocks):
            x = block(x)
            last_of_stage = i + 1 == len(self.blocks) or self.plans[i + 1].stage != block.plan.stage
            if taps is not None and last_of_stage:
                taps[f"stage{block.plan.stage + 1}"] = x
        x = self.norm(x.mean(dim=1))
        if taps is not None:
            taps["embedding"] = x
        return x


class ViTBlock(nn.Module):
    def __init__(self, dim: int, heads: int, mlp_ratio: int):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim, eps=NORM_EPS)
        self.attn = nn.Module()
        self.attn.qkv = nn.Linear(dim, 3 * dim)
        self.attn.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim, eps=NORM_EPS)
        self.mlp = Mlp(dim, mlp_ratio * dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        hd = c // self.heads
        qkv = self.attn.qkv(self.norm1(x)).reshape(b, n, 3, self.heads, hd).permute(2, 0, 3, 1, 4)
        attn = ((qkv[0] * hd ** -0.5) @ qkv[1].transpose(-2, -1)).softmax(dim=-1)
        y = (attn @ qkv[2]).transpose(1, 2).reshape(b, n, c)
        x = x + self.attn.proj(y)
        return x + self.mlp(self.norm2(x))


class AST(Tagger):
    """Audio Spectrogram Transformer (Gong et al. 2021): ViT with CLS and distillation tokens.

    Keys are AST's own (`module.v.` stripped, `mlp_head.0/1` renamed `head_norm`/`head`), so
    convert_ast.py is a rename.
    """

    def __init__(self, cfg: ArchConfig):
        super().__init__()
        assert cfg.family == "ast"
        self.cfg = cfg
        self.grid = (conv_out(cfg.mel_bins, cfg.patch_kernel[0], cfg.patch_stride[0], cfg.patch_padding[0]),
                     conv_out(cfg.frames, cfg.patch_kernel[1], cfg.patch_stride[1], cfg.patch_padding[1]))
        n = self.grid[0] * self.grid[1]
        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv2d(1, cfg.dim, cfg.patch_kernel, cfg.patch_stride, cfg.patch_padding)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, cfg.dim))
        self.dist_token = nn.Parameter(torch.zeros(1, 1, cfg.dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, n + 2, cfg.dim))
        self.blocks = nn.ModuleList(ViTBlock(cfg.dim, cfg.heads, cfg.mlp_ratio) for _ in range(cfg.depth))
        self.norm = nn.LayerNorm(cfg.dim, eps=NORM_EPS)
        self.head_norm = nn.LayerNorm(cfg.dim, eps=AST_HEAD_NORM_EPS)
        self.head = nn.Linear(cfg.dim, cfg.num_classes)

    def forward_features(self, features: torch.Tensor, taps: dict | None = None) -> torch.Tensor:
        x = self.patch_embed.proj(features.transpose(1, 2).unsqueeze(1)).flatten(2).transpose(1, 2)
        b = x.shape[0]
        x = torch.cat([self.cls_token.expand(b, -1, -1), self.dist_token.expand(b, -1, -1), x], dim=1)
        x = x + self.pos_embed
        if taps is not None:
            taps["patch_embed"] = x
        for i, block in enumerate(self.blocks):
            x = block(x)
            # AST has one stage; tap every quarter of the depth so drift is localised.
            if taps is not None and (i + 1) % max(len(self.blocks) // 4, 1) == 0:
                taps[f"block{i + 1}"] = x
        x = self.norm(x)
        x = self.head_norm((x[:, 0] + x[:, 1]) / 2)
        if taps is not None:
            taps["embedding"] = x
        return x


def build_model(cfg: ArchConfig) -> Tagger:
    return MAST(cfg) if cfg.family == "mast" else AST(cfg)
