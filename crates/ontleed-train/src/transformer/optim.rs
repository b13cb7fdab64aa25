//! AdamW with decoupled weight decay (as `torch.optim.AdamW`), global-norm gradient clipping,
//! and moments that can be saved and restored for an exact resume.
//!
//! On the CPU the update is one fused in-place pass over each parameter, its gradient and its
//! two moments (parallel with rayon): candle's tensor ops would allocate about ten temporaries
//! per parameter per step. On other devices it is written with tensor ops.

use std::collections::HashMap;
use std::sync::Mutex;

use anyhow::{Context, Result, bail, ensure};
use candle_core::backprop::GradStore;
use candle_core::{CpuStorage, DType, InplaceOp2, Layout, Storage, Tensor, Var};
use rayon::prelude::*;

/// Values per rayon task in the fused update.
const CHUNK: usize = 1 << 15;

/// Hyper-parameters of [`AdamW`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamWConfig {
    /// First-moment decay.
    pub beta1: f64,
    /// Second-moment decay.
    pub beta2: f64,
    /// Added to the denominator.
    pub eps: f64,
    /// Decoupled weight decay (not applied to biases and LayerNorm weights).
    pub weight_decay: f64,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        Self {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
        }
    }
}

enum Moments {
    Host { m: Vec<f32>, v: Vec<f32> },
    Device { m: Tensor, v: Tensor },
}

/// One trained parameter.
pub struct Param {
    /// Its name in the saved weights.
    pub name: String,
    /// The variable.
    pub var: Var,
    /// Whether weight decay applies (not to biases and LayerNorm parameters).
    pub decay: bool,
    moments: Moments,
}

/// The optimizer.
pub struct AdamW {
    /// Parameters, in a fixed order.
    pub params: Vec<Param>,
    /// Hyper-parameters.
    pub config: AdamWConfig,
    /// Updates done so far.
    pub step: u64,
}

/// Whether weight decay applies to the parameter called `name` (Hugging Face's rule: not to
/// biases and LayerNorm weights).
pub fn decays(name: &str) -> bool {
    !(name.ends_with(".bias") || name.contains("LayerNorm"))
}

fn cpu_f32_slice(t: &Tensor, f: impl FnOnce(&[f32]) -> f64) -> Result<f64> {
    let (storage, layout) = t.storage_and_layout();
    let Storage::Cpu(cpu) = &*storage else {
        bail!("not a CPU tensor");
    };
    let data = cpu.as_slice::<f32>()?;
    let Some((a, b)) = layout.contiguous_offsets() else {
        bail!("not a contiguous tensor");
    };
    Ok(f(&data[a..b]))
}

impl AdamW {
    /// An optimizer over `params` (name, variable), moments at zero. `host_moments`: keep the
    /// moments in host memory and update with the fused CPU pass (only for f32 CPU variables).
    pub fn new(
        params: Vec<(String, Var)>,
        config: AdamWConfig,
        host_moments: bool,
    ) -> Result<Self> {
        let params = params
            .into_iter()
            .map(|(name, var)| {
                let host = host_moments && var.device().is_cpu() && var.dtype() == DType::F32;
                let moments = if host {
                    let n = var.elem_count();
                    Moments::Host {
                        m: vec![0.0; n],
                        v: vec![0.0; n],
                    }
                } else {
                    Moments::Device {
                        m: var.zeros_like()?,
                        v: var.zeros_like()?,
                    }
                };
                Ok(Param {
                    decay: decays(&name),
                    name,
                    var,
                    moments,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            params,
            config,
            step: 0,
        })
    }

    /// Global L2 norm of the gradients of the parameters.
    pub fn grad_norm(&self, grads: &GradStore) -> Result<f64> {
        let mut total = 0f64;
        for p in &self.params {
            let Some(g) = grads.get(p.var.as_tensor()) else {
                continue;
            };
            total += if g.device().is_cpu() && g.dtype() == DType::F32 && g.is_contiguous() {
                // Chunk sums collected in order and added up serially: a rayon `sum` would
                // add in an order that depends on work stealing, and a resumed run would then
                // differ from an uninterrupted one in the last bits.
                cpu_f32_slice(g, |s| {
                    let parts: Vec<f64> = s
                        .par_chunks(CHUNK)
                        .map(|c| c.iter().map(|&x| (x as f64) * (x as f64)).sum::<f64>())
                        .collect();
                    parts.iter().sum()
                })?
            } else {
                g.to_dtype(DType::F64)?
                    .sqr()?
                    .sum_all()?
                    .to_scalar::<f64>()?
            };
        }
        Ok(total.sqrt())
    }

    /// One update with learning rate `lr`, gradients multiplied by `grad_scale` (clipping).
    /// Parameters without a gradient are left alone.
    pub fn update(&mut self, grads: &GradStore, lr: f64, grad_scale: f64) -> Result<()> {
        self.step += 1;
        let c = self.config;
        let t = self.step as i32;
        let bc1 = 1.0 - c.beta1.powi(t);
        let bc2 = 1.0 - c.beta2.powi(t);
        for p in &mut self.params {
            let Some(g) = grads.get(p.var.as_tensor()) else {
                continue;
            };
            let wd = if p.decay { c.weight_decay } else { 0.0 };
            match &mut p.moments {
                Moments::Host { m, v } => {
                    let g = g.contiguous()?;
                    let op = Fused {
                        decay: (1.0 - lr * wd) as f32,
                        b1: c.beta1 as f32,
                        b2: c.beta2 as f32,
                        eps: c.eps as f32,
                        step: (lr / bc1) as f32,
                        inv_sqrt_bc2: (1.0 / bc2.sqrt()) as f32,
                        scale: grad_scale as f32,
                        moments: Mutex::new((m.as_mut_slice(), v.as_mut_slice())),
                    };
                    p.var
                        .as_tensor()
                        .inplace_op2(&g, &op)
                        .with_context(|| format!("updating {}", p.name))?;
                }
                Moments::Device { m, v } => {
                    let g = (g * grad_scale)?;
                    *m = ((&*m * c.beta1)? + (&g * (1.0 - c.beta1))?)?;
                    *v = ((&*v * c.beta2)? + (g.sqr()? * (1.0 - c.beta2))?)?;
                    let denom = ((&*v / bc2)?.sqrt()? + c.eps)?;
                    let stepped = ((&*m / bc1)? / denom)?;
                    let new = ((p.var.as_tensor() * (1.0 - lr * wd))? - (stepped * lr)?)?;
                    p.var.set(&new)?;
                }
            }
        }
        Ok(())
    }

    /// The moments as tensors named `m.NAME` and `v.NAME`, on the CPU.
    pub fn moments(&self) -> Result<HashMap<String, Tensor>> {
        let mut out = HashMap::new();
        for p in &self.params {
            let shape = p.var.shape().clone();
            let (m, v) = match &p.moments {
                Moments::Host { m, v } => (
                    Tensor::from_slice(m, shape.clone(), &candle_core::Device::Cpu)?,
                    Tensor::from_slice(v, shape, &candle_core::Device::Cpu)?,
                ),
                Moments::Device { m, v } => (
                    m.to_device(&candle_core::Device::Cpu)?,
                    v.to_device(&candle_core::Device::Cpu)?,
                ),
            };
            out.insert(format!("m.{}", p.name), m);
            out.insert(format!("v.{}", p.name), v);
        }
        Ok(out)
    }

    /// Restores moments saved by [`AdamW::moments`]; every parameter must have both.
    pub fn set_moments(&mut self, saved: &HashMap<String, Tensor>) -> Result<()> {
        for p in &mut self.params {
            let get = |k: &str| -> Result<Tensor> {
                let t = saved
                    .get(&format!("{k}.{}", p.name))
                    .with_context(|| format!("the checkpoint has no {k}.{}", p.name))?;
                ensure!(
                    t.shape() == p.var.shape(),
                    "{k}.{}: shape {:?}, expected {:?}",
                    p.name,
                    t.shape(),
                    p.var.shape()
                );
                Ok(t.to_dtype(DType::F32)?)
            };
            let (m, v) = (get("m")?, get("v")?);
            p.moments = match p.moments {
                Moments::Host { .. } => Moments::Host {
                    m: m.flatten_all()?.to_vec1()?,
                    v: v.flatten_all()?.to_vec1()?,
                },
                Moments::Device { .. } => Moments::Device {
                    m: m.to_device(p.var.device())?,
                    v: v.to_device(p.var.device())?,
                },
            };
        }
        Ok(())
    }
}

/// The fused CPU update of one parameter (`torch.optim.AdamW` arithmetic).
struct Fused<'a> {
    /// `1 − lr · weight_decay`.
    decay: f32,
    b1: f32,
    b2: f32,
    eps: f32,
    /// `lr / (1 − β₁ᵗ)`.
    step: f32,
    /// `1 / sqrt(1 − β₂ᵗ)`.
    inv_sqrt_bc2: f32,
    /// Gradient scale (clipping).
    scale: f32,
    moments: Mutex<(&'a mut [f32], &'a mut [f32])>,
}

impl InplaceOp2 for Fused<'_> {
    fn name(&self) -> &'static str {
        "ontleed-adamw"
    }

    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<()> {
        let CpuStorage::F32(params) = s1 else {
            candle_core::bail!("AdamW: parameters must be f32");
        };
        let (Some((a1, b1)), Some((a2, b2))) = (l1.contiguous_offsets(), l2.contiguous_offsets())
        else {
            candle_core::bail!("AdamW: tensors must be contiguous");
        };
        let g = &s2.as_slice::<f32>()?[a2..b2];
        let p = &mut params[a1..b1];
        let mut guard = self
            .moments
            .lock()
            .map_err(|_| candle_core::Error::Msg("AdamW: poisoned moments".into()))?;
        let (m, v) = &mut *guard;
        if p.len() != g.len() || m.len() != p.len() || v.len() != p.len() {
            candle_core::bail!("AdamW: size mismatch");
        }
        p.par_chunks_mut(CHUNK)
            .zip(g.par_chunks(CHUNK))
            .zip(m.par_chunks_mut(CHUNK).zip(v.par_chunks_mut(CHUNK)))
            .for_each(|((p, g), (m, v))| {
                for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
                    let g = g * self.scale;
                    *m = self.b1 * *m + (1.0 - self.b1) * g;
                    *v = self.b2 * *v + (1.0 - self.b2) * g * g;
                    let denom = v.sqrt() * self.inv_sqrt_bc2 + self.eps;
                    *p = *p * self.decay - self.step * *m / denom;
                }
            });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    /// The fused CPU update and the tensor-op update agree, moments included.
    #[test]
    fn fused_and_tensor_updates_agree() {
        let init: Vec<f32> = (0..1000)
            .map(|i| ((i * 7 % 13) as f32 - 6.0) / 10.0)
            .collect();
        let make = |host: bool| {
            let w = Var::from_tensor(&Tensor::from_slice(&init, (10, 100), &Device::Cpu).unwrap())
                .unwrap();
            let b =
                Var::from_tensor(&Tensor::zeros(100, DType::F32, &Device::Cpu).unwrap()).unwrap();
            AdamW::new(
                vec![("w.weight".into(), w), ("w.bias".into(), b)],
                AdamWConfig::default(),
                host,
            )
            .unwrap()
        };
        let (mut a, mut b) = (make(true), make(false));
        for step in 0..5 {
            let mut losses = Vec::new();
            for opt in [&a, &b] {
                let w = opt.params[0].var.as_tensor();
                let bias = opt.params[1].var.as_tensor();
                let y = w.broadcast_add(bias).unwrap();
                losses.push((y.sqr().unwrap().sum_all().unwrap() * (1.0 + step as f64)).unwrap());
            }
            let ga = losses[0].backward().unwrap();
            let gb = losses[1].backward().unwrap();
            let (na, nb) = (a.grad_norm(&ga).unwrap(), b.grad_norm(&gb).unwrap());
            assert!((na - nb).abs() < 1e-5 * na, "step {step}: {na} vs {nb}");
            let scale = (1.0 / (na + 1e-6)).min(1.0);
            a.update(&ga, 1e-2, scale).unwrap();
            b.update(&gb, 1e-2, scale).unwrap();
        }
        for (pa, pb) in a.params.iter().zip(&b.params) {
            let x: Vec<f32> = pa.var.flatten_all().unwrap().to_vec1().unwrap();
            let y: Vec<f32> = pb.var.flatten_all().unwrap().to_vec1().unwrap();
            for (x, y) in x.iter().zip(&y) {
                assert!((x - y).abs() < 1e-5, "{x} vs {y}");
            }
        }
        let (ma, mb) = (a.moments().unwrap(), b.moments().unwrap());
        assert_eq!(ma.len(), 4);
        for (k, t) in &ma {
            let d = (t - &mb[k]).unwrap().abs().unwrap().max_all().unwrap();
            assert!(d.to_scalar::<f32>().unwrap() < 1e-6, "{k}");
        }
        assert!(!a.params[1].decay && a.params[0].decay);
    }
}
