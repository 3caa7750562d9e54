// robust-darts native addon: a thin N-API layer over libtorch.
//
// It only marshals tensor handles and arguments, dispatches into libtorch, and turns C++
// exceptions into JS errors (TorchError) that carry libtorch's message and the public op's
// name. The common op families are generated (see ops.generated.inc). Everything
// with meaning (modules, optimisers, scopes) lives in TypeScript (src/torch).
//
// A tensor handle is a number naming a slot that owns one reference to an at::Tensor;
// `dispose` drops it at once (see "handles" below).

#include <napi.h>
#include <torch/torch.h>
#include <ATen/Parallel.h>
#include <ATen/core/Generator.h>
#include <ATen/CPUGeneratorImpl.h>

#include "alloc.h"
#include "depthwise.h"
#include "pointwise.h"
#include "wsum.h"
#include "norm.h"
#include "pool.h"
#include "profile.h"

#include <atomic>
#include <cstdlib>
#include <limits>
#include <malloc.h>
#include <deque>
#include <chrono>
#include <cmath>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::atomic<int64_t> g_live{0};

// Only tensors of at least this size are reported to V8 as external memory: the report is a
// call into V8 per tensor, which would double the cost of small ops, and small tensors do not
// matter to the GC's sense of memory pressure.
constexpr int64_t kReportBytes = 64 * 1024;

int64_t TensorBytes(const at::Tensor& t) {
  if (!t.defined()) return 0;
  int64_t b = static_cast<int64_t>(t.numel()) * static_cast<int64_t>(t.element_size());
  return b >= kReportBytes ? b : 0;
}

// ---------------------------------------------------------------- errors

class ArgError : public std::runtime_error {
 public:
  explicit ArgError(const std::string& m) : std::runtime_error(m) {}
};

std::string FirstLines(const std::string& s) {
  // libtorch messages may carry a C++ backtrace after the first blank line; keep the message.
  auto pos = s.find("\nException raised from");
  std::string out = pos == std::string::npos ? s : s.substr(0, pos);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

using Fn = Napi::Value (*)(const Napi::CallbackInfo&);

// Native errors are made as instances of the JS class registered with setErrorClass (the
// library's TorchError: new TorchError(message, hint, op)); before that, plain Errors.
[[noreturn]] void ThrowOpError(Napi::Env env, const char* op, const std::string& what, bool argument) {
  std::string msg = std::string(op) + ": " + what;
  auto* cls = env.GetInstanceData<Napi::FunctionReference>();
  if (cls && !cls->IsEmpty()) {
    throw Napi::Error(env, cls->New({Napi::String::New(env, msg), env.Undefined(), Napi::String::New(env, op)}));
  }
  Napi::Error err = argument ? Napi::TypeError::New(env, msg) : Napi::Error::New(env, msg);
  err.Set("op", Napi::String::New(env, op));
  throw err;
}

// Every export runs inside Guard: C++ exceptions become JS errors named after the public op
// (the export's data pointer), with libtorch's own message.
template <Fn F>
Napi::Value Guard(const Napi::CallbackInfo& info) {
  const char* op = static_cast<const char*>(info.Data());
  try {
    return F(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    ThrowOpError(info.Env(), op, FirstLines(e.what_without_backtrace()), false);
  } catch (const ArgError& e) {
    ThrowOpError(info.Env(), op, e.what(), true);
  } catch (const std::exception& e) {
    ThrowOpError(info.Env(), op, FirstLines(e.what()), false);
  }
}

// setErrorClass(cls): the class native errors are made of (kept for the addon's lifetime).
Napi::Value SetErrorClass(const Napi::CallbackInfo& info) {
  if (!info[0].IsFunction()) throw ArgError("expected a class");
  info.Env().SetInstanceData<Napi::FunctionReference>(new Napi::FunctionReference(Napi::Persistent(info[0].As<Napi::Function>())));
  return info.Env().Undefined();
}

// ---------------------------------------------------------------- handles
//
// A handle is a JS number: generation · 2^24 + slot. Slots live in a deque (stable addresses);
// a disposed slot goes on a free list and its generation is bumped when reused, so a stale
// handle is detected ("used after dispose") instead of reaching another tensor. Numbers cost
// nothing to create, unlike N-API externals with finalizers; the JS side keeps a
// FinalizationRegistry as the safety net for tensors that live outside scopes.

struct Slot {
  at::Tensor t;
  uint32_t gen = 0;
  int64_t bytes = 0;
};

std::deque<Slot> g_slots;
std::vector<uint32_t> g_free;
constexpr double kSlotBase = 16777216.0;  // 2^24 slots
constexpr uint32_t kSlotMask = 0xFFFFFF;

Napi::Value Wrap(Napi::Env env, at::Tensor t) {
  uint32_t i;
  if (!g_free.empty()) {
    i = g_free.back();
    g_free.pop_back();
  } else {
    if (g_slots.size() > kSlotMask) throw ArgError("more than 16M live tensors; dispose tensors or run steps inside tidy()");
    i = static_cast<uint32_t>(g_slots.size());
    g_slots.emplace_back();
  }
  Slot& s = g_slots[i];
  s.gen = (s.gen + 1) & 0x1FFFFFFF;
  if (s.gen == 0) s.gen = 1;
  s.bytes = TensorBytes(t);
  s.t = std::move(t);
  g_live++;
  if (s.bytes) Napi::MemoryManagement::AdjustExternalMemory(env, s.bytes);
  return Napi::Number::New(env, static_cast<double>(s.gen) * kSlotBase + static_cast<double>(i));
}

Slot* Lookup(const Napi::Value& v) {
  if (!v.IsNumber()) return nullptr;
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= kSlotBase)) return nullptr;
  uint64_t u = static_cast<uint64_t>(d);
  uint32_t i = static_cast<uint32_t>(u & kSlotMask);
  uint32_t gen = static_cast<uint32_t>(u >> 24);
  if (i >= g_slots.size()) return nullptr;
  Slot& s = g_slots[i];
  if (s.gen != gen || !s.t.defined()) return nullptr;
  return &s;
}

at::Tensor& T(const Napi::Value& v, const char* what = "tensor") {
  Slot* s = Lookup(v);
  if (!s) {
    if (!v.IsNumber()) throw ArgError(std::string("expected a tensor handle for ") + what);
    throw ArgError(std::string("tensor used after dispose() (") + what + ")");
  }
  return s->t;
}

Napi::Value WrapOpt(Napi::Env env, const at::Tensor& t) {
  if (!t.defined()) return env.Null();
  return Wrap(env, t);
}

c10::optional<at::Tensor> OptT(const Napi::Value& v, const char* what) {
  if (v.IsNull() || v.IsUndefined()) return c10::nullopt;
  return T(v, what);
}

at::Tensor UndefOr(const Napi::Value& v, const char* what) {
  if (v.IsNull() || v.IsUndefined()) return at::Tensor();
  return T(v, what);
}

std::vector<int64_t> Ints(const Napi::Value& v, const char* what) {
  std::vector<int64_t> out;
  if (v.IsNumber()) {
    out.push_back(v.As<Napi::Number>().Int64Value());
    return out;
  }
  if (!v.IsArray()) throw ArgError(std::string("expected an array of integers for ") + what);
  auto a = v.As<Napi::Array>();
  out.reserve(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value e = a.Get(i);
    if (!e.IsNumber()) throw ArgError(std::string("expected an array of integers for ") + what);
    out.push_back(e.As<Napi::Number>().Int64Value());
  }
  return out;
}

double Num(const Napi::Value& v, const char* what) {
  if (!v.IsNumber()) throw ArgError(std::string("expected a number for ") + what);
  return v.As<Napi::Number>().DoubleValue();
}

int64_t Int(const Napi::Value& v, const char* what) {
  if (!v.IsNumber()) throw ArgError(std::string("expected an integer for ") + what);
  return v.As<Napi::Number>().Int64Value();
}

bool Bool(const Napi::Value& v) { return v.ToBoolean().Value(); }

std::string Str(const Napi::Value& v, const char* what) {
  if (!v.IsString()) throw ArgError(std::string("expected a string for ") + what);
  return v.As<Napi::String>().Utf8Value();
}

at::ScalarType Dtype(const std::string& s) {
  if (s == "float32") return at::kFloat;
  if (s == "float64") return at::kDouble;
  if (s == "int64") return at::kLong;
  if (s == "int32") return at::kInt;
  if (s == "bool") return at::kBool;
  if (s == "uint8") return at::kByte;
  throw ArgError("unknown dtype '" + s + "' (expected float32, float64, int64, int32, bool or uint8)");
}

const char* DtypeName(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "float32";
    case at::kDouble: return "float64";
    case at::kLong: return "int64";
    case at::kInt: return "int32";
    case at::kBool: return "bool";
    case at::kByte: return "uint8";
    default: return "other";
  }
}

at::Device ParseDevice(const std::string& s) {
  if (s.rfind("cuda", 0) == 0 && !torch::cuda::is_available()) {
    throw ArgError("device '" + s + "' requested, but this libtorch build has no CUDA (or no GPU is visible); " +
                   "point LIBTORCH at a CUDA build of libtorch and rebuild the addon");
  }
  return at::Device(s);
}

at::TensorOptions Opts(const Napi::Value& dtype, const Napi::Value& device) {
  auto o = at::TensorOptions().dtype(dtype.IsString() ? Dtype(dtype.As<Napi::String>().Utf8Value()) : at::kFloat);
  if (device.IsString()) o = o.device(ParseDevice(device.As<Napi::String>().Utf8Value()));
  return o;
}

// Handles are numbers too, so where an argument may be a tensor or a scalar the caller says
// which with an explicit flag argument.
bool Flag(const Napi::Value& v) { return v.IsBoolean() && v.As<Napi::Boolean>().Value(); }
at::Scalar ScalarOf(const Napi::Value& v) {
  if (v.IsBoolean()) return at::Scalar(v.As<Napi::Boolean>().Value());
  double d = v.As<Napi::Number>().DoubleValue();
  // integral values stay integral so that integer tensors accept them (x.add_(1) on int64)
  if (std::isfinite(d) && d == static_cast<double>(static_cast<int64_t>(d)) && std::abs(d) < 9007199254740992.0)
    return at::Scalar(static_cast<int64_t>(d));
  return at::Scalar(d);
}

Napi::Value Pair(Napi::Env env, const at::Tensor& a, const at::Tensor& b) {
  auto arr = Napi::Array::New(env, 2);
  arr.Set(0u, Wrap(env, a));
  arr.Set(1u, Wrap(env, b));
  return arr;
}

std::vector<at::Tensor> TensorList(const Napi::Value& v, const char* what) {
  if (!v.IsArray()) throw ArgError(std::string("expected an array of tensors for ") + what);
  auto a = v.As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) out.push_back(T(a.Get(i), what));
  return out;
}

// ---------------------------------------------------------------- lifetime & info

Napi::Value Dispose(const Napi::CallbackInfo& info) {
  // disposing a stale or already disposed handle is a no-op (the GC safety net may do that)
  Slot* s = Lookup(info[0]);
  if (s) {
    s->t.reset();
    if (s->bytes) Napi::MemoryManagement::AdjustExternalMemory(info.Env(), -s->bytes);
    s->bytes = 0;
    g_live--;
    g_free.push_back(static_cast<uint32_t>(static_cast<uint64_t>(info[0].As<Napi::Number>().DoubleValue()) & kSlotMask));
  }
  return info.Env().Undefined();
}

Napi::Value IsDisposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), Lookup(info[0]) == nullptr); }

Napi::Value LiveCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(g_live.load()));
}

Napi::Value Shape(const Napi::CallbackInfo& info) {
  auto& t = T(info[0]);
  auto sizes = t.sizes();
  auto arr = Napi::Array::New(info.Env(), sizes.size());
  for (size_t i = 0; i < sizes.size(); i++) arr.Set(static_cast<uint32_t>(i), Napi::Number::New(info.Env(), static_cast<double>(sizes[i])));
  return arr;
}

Napi::Value DtypeOf(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), DtypeName(T(info[0]).scalar_type()));
}

Napi::Value DeviceOf(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), T(info[0]).device().str());
}

Napi::Value Numel(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(T(info[0]).numel()));
}

Napi::Value RequiresGrad(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), T(info[0]).requires_grad());
}

Napi::Value IsLeaf(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), T(info[0]).is_leaf());
}

Napi::Value SetRequiresGrad(const Napi::CallbackInfo& info) {
  T(info[0]).set_requires_grad(Bool(info[1]));
  return info.Env().Undefined();
}

// ---------------------------------------------------------------- creation & data

Napi::Value FromArray(const Napi::CallbackInfo& info) {
  // (typedArray, shape, dtype)
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray()) throw ArgError("expected a typed array");
  auto ta = info[0].As<Napi::TypedArray>();
  auto shape = Ints(info[1], "shape");
  int64_t n = 1;
  for (auto s : shape) {
    if (s < 0) throw ArgError("negative dimension in shape");
    n *= s;
  }
  if (static_cast<int64_t>(ta.ElementLength()) != n) {
    std::ostringstream m;
    m << "the array has " << ta.ElementLength() << " elements but shape [";
    for (size_t i = 0; i < shape.size(); i++) m << (i ? ", " : "") << shape[i];
    m << "] needs " << n;
    throw ArgError(m.str());
  }
  at::ScalarType src;
  switch (ta.TypedArrayType()) {
    case napi_float32_array: src = at::kFloat; break;
    case napi_float64_array: src = at::kDouble; break;
    case napi_bigint64_array: src = at::kLong; break;
    case napi_int32_array: src = at::kInt; break;
    case napi_uint8_array: src = at::kByte; break;
    default: throw ArgError("unsupported typed array (use Float32Array, Float64Array, BigInt64Array, Int32Array or Uint8Array)");
  }
  auto buf = ta.ArrayBuffer();
  void* data = static_cast<uint8_t*>(buf.Data()) + ta.ByteOffset();
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(src));
  if (n > 0) std::memcpy(t.data_ptr(), data, static_cast<size_t>(n) * t.element_size());
  at::ScalarType dst = info[2].IsString() ? Dtype(info[2].As<Napi::String>().Utf8Value()) : src;
  if (dst != src) t = t.to(dst);
  return Wrap(env, t);
}

Napi::Value FromBytes(const Napi::CallbackInfo& info) {
  // (Uint8Array raw little-endian bytes, shape, dtype)
  if (!info[0].IsTypedArray()) throw ArgError("expected a Uint8Array");
  auto ta = info[0].As<Napi::TypedArray>();
  auto shape = Ints(info[1], "shape");
  at::ScalarType dt = Dtype(Str(info[2], "dtype"));
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(dt));
  size_t need = static_cast<size_t>(t.numel()) * t.element_size();
  if (ta.ByteLength() != need) {
    std::ostringstream m;
    m << "got " << ta.ByteLength() << " bytes, shape and dtype need " << need;
    throw ArgError(m.str());
  }
  auto buf = ta.ArrayBuffer();
  if (need > 0) std::memcpy(t.data_ptr(), static_cast<uint8_t*>(buf.Data()) + ta.ByteOffset(), need);
  return Wrap(info.Env(), t);
}

Napi::Value ToBytes(const Napi::CallbackInfo& info) {
  at::Tensor t = T(info[0]).detach().to(at::kCPU).contiguous();
  size_t n = static_cast<size_t>(t.numel()) * t.element_size();
  auto out = Napi::Buffer<uint8_t>::Copy(info.Env(), static_cast<const uint8_t*>(t.data_ptr()), n);
  return out;
}

Napi::Value ToArray(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  at::Tensor t = T(info[0]).detach().to(at::kCPU).contiguous();
  size_t n = static_cast<size_t>(t.numel());
  switch (t.scalar_type()) {
    case at::kFloat: {
      auto a = Napi::Float32Array::New(env, n);
      if (n) std::memcpy(a.Data(), t.data_ptr(), n * 4);
      return a;
    }
    case at::kDouble: {
      auto a = Napi::Float64Array::New(env, n);
      if (n) std::memcpy(a.Data(), t.data_ptr(), n * 8);
      return a;
    }
    case at::kLong: {
      auto ab = Napi::ArrayBuffer::New(env, n * 8);
      if (n) std::memcpy(ab.Data(), t.data_ptr(), n * 8);
      napi_value out;
      napi_create_typedarray(env, napi_bigint64_array, n, ab, 0, &out);
      return Napi::Value(env, out);
    }
    case at::kInt: {
      auto a = Napi::Int32Array::New(env, n);
      if (n) std::memcpy(a.Data(), t.data_ptr(), n * 4);
      return a;
    }
    case at::kBool:
    case at::kByte: {
      auto a = Napi::Uint8Array::New(env, n);
      if (n) std::memcpy(a.Data(), t.data_ptr(), n);
      return a;
    }
    default: throw ArgError("unsupported dtype");
  }
}

Napi::Value Item(const Napi::CallbackInfo& info) {
  auto& t = T(info[0]);
  if (t.numel() != 1) {
    std::ostringstream m;
    m << "the tensor has " << t.numel() << " elements; item() needs exactly one";
    throw ArgError(m.str());
  }
  if (t.scalar_type() == at::kBool) return Napi::Boolean::New(info.Env(), t.item<bool>());
  return Napi::Number::New(info.Env(), t.item<double>());
}

// zeros / ones / empty / full / randn / rand (shape, dtype, device[, value]): the export's name says which
Napi::Value CreateAs(const Napi::CallbackInfo& info) {
  const std::string kind = static_cast<const char*>(info.Data());
  auto shape = Ints(info[0], "shape");
  auto o = Opts(info[1], info[2]);
  at::Tensor t;
  if (kind == "zeros") t = at::zeros(shape, o);
  else if (kind == "ones") t = at::ones(shape, o);
  else if (kind == "empty") t = at::empty(shape, o);
  else if (kind == "full") t = at::full(shape, ScalarOf(info[3]), o);
  else if (kind == "randn") t = at::randn(shape, o);
  else t = at::rand(shape, o);
  return Wrap(info.Env(), t);
}

Napi::Value Arange(const Napi::CallbackInfo& info) {
  auto o = Opts(info[3], info[4]);
  return Wrap(info.Env(), at::arange(ScalarOf(info[0]), ScalarOf(info[1]), ScalarOf(info[2]), o));
}

// bernoulli(shapeLikeTensor or probabilities tensor, p|null)
Napi::Value Bernoulli(const Napi::CallbackInfo& info) {
  auto& t = T(info[0]);
  if (info[1].IsNumber()) return Wrap(info.Env(), at::bernoulli(t, Num(info[1], "p")));
  return Wrap(info.Env(), at::bernoulli(t));
}

// normal(mean, std, shape, dtype, device)
Napi::Value Normal(const Napi::CallbackInfo& info) {
  auto o = Opts(info[3], info[4]);
  auto shape = Ints(info[2], "shape");
  at::Tensor t = at::empty(shape, o);
  t.normal_(Num(info[0], "mean"), Num(info[1], "std"));
  return Wrap(info.Env(), t);
}

// in-place random fills, named by the export: uniform_(h, from, to), normal_(h, mean, std)
Napi::Value FillRandomAs(const Napi::CallbackInfo& info) {
  auto& t = T(info[0]);
  at::NoGradGuard ng;
  if (std::strcmp(static_cast<const char*>(info.Data()), "uniform_") == 0) t.uniform_(Num(info[1], "from"), Num(info[2], "to"));
  else t.normal_(Num(info[1], "mean"), Num(info[2], "std"));
  return info.Env().Undefined();
}

// ---------------------------------------------------------------- generated ops
//
// The element-wise, in-place and reduction families are generated from native/ops.json by
// scripts/gen-ops.mjs: one function per op, exported (by ExportGeneratedOps) under its public name.

// EXPORT(name, fn): export fn as `name`; its errors carry `name` (the function's data pointer).
#define EXPORT(name, fn) \
  exports.Set(name, Napi::Function::New<Guard<fn>>(env, name, const_cast<void*>(static_cast<const void*>(name))))

#include "ops.generated.inc"

// ---------------------------------------------------------------- element-wise (hand-written)

// where(cond, a, b, aIsScalar, bIsScalar)
Napi::Value Where(const Napi::CallbackInfo& info) {
  auto& c = T(info[0], "condition");
  bool sa = Flag(info[3]), sb = Flag(info[4]);
  if (sa && sb) return Wrap(info.Env(), at::where(c, ScalarOf(info[1]), ScalarOf(info[2])));
  if (sa) return Wrap(info.Env(), at::where(c, ScalarOf(info[1]), T(info[2])));
  if (sb) return Wrap(info.Env(), at::where(c, T(info[1]), ScalarOf(info[2])));
  return Wrap(info.Env(), at::where(c, T(info[1]), T(info[2])));
}

Napi::Value Clamp(const Napi::CallbackInfo& info) {
  c10::optional<at::Scalar> lo, hi;
  if (info[1].IsNumber()) lo = ScalarOf(info[1]);
  if (info[2].IsNumber()) hi = ScalarOf(info[2]);
  return Wrap(info.Env(), at::clamp(T(info[0]), lo, hi));
}

// clamp_(h, lo|null, hi|null): mutates h
Napi::Value ClampInplace(const Napi::CallbackInfo& info) {
  c10::optional<at::Scalar> lo, hi;
  if (info[1].IsNumber()) lo = ScalarOf(info[1]);
  if (info[2].IsNumber()) hi = ScalarOf(info[2]);
  T(info[0], "target").clamp_(lo, hi);
  return info.Env().Undefined();
}

// ---------------------------------------------------------------- reductions (hand-written)

// norm(h, p, dims|null, keepdim)
Napi::Value Norm(const Napi::CallbackInfo& info) {
  auto& x = T(info[0]);
  at::Scalar p = ScalarOf(info[1]);
  if (info[2].IsNull() || info[2].IsUndefined()) return Wrap(info.Env(), at::norm(x, p));
  return Wrap(info.Env(), at::norm(x, p, Ints(info[2], "dims"), Bool(info[3])));
}

// maxDim(h, dim, keepdim, isMin) -> [values, indices]
Napi::Value MaxDim(const Napi::CallbackInfo& info) {
  auto& x = T(info[0]);
  auto res = Bool(info[3]) ? at::min(x, Int(info[1], "dim"), Bool(info[2])) : at::max(x, Int(info[1], "dim"), Bool(info[2]));
  return Pair(info.Env(), std::get<0>(res), std::get<1>(res));
}

// argmax(h, dim|null, keepdim, isMin)
Napi::Value Argmax(const Napi::CallbackInfo& info) {
  auto& x = T(info[0]);
  c10::optional<int64_t> dim;
  if (info[1].IsNumber()) dim = Int(info[1], "dim");
  return Wrap(info.Env(), Bool(info[3]) ? at::argmin(x, dim, Bool(info[2])) : at::argmax(x, dim, Bool(info[2])));
}

// topk(h, k, dim, largest, sorted)
Napi::Value Topk(const Napi::CallbackInfo& info) {
  auto res = at::topk(T(info[0]), Int(info[1], "k"), Int(info[2], "dim"), Bool(info[3]), Bool(info[4]));
  return Pair(info.Env(), std::get<0>(res), std::get<1>(res));
}

Napi::Value Sort(const Napi::CallbackInfo& info) {
  auto res = at::sort(T(info[0]), Int(info[1], "dim"), Bool(info[2]));
  return Pair(info.Env(), std::get<0>(res), std::get<1>(res));
}

// ---------------------------------------------------------------- shapes

Napi::Value View(const Napi::CallbackInfo& info) { return Wrap(info.Env(), T(info[0]).view(Ints(info[1], "shape"))); }
Napi::Value Reshape(const Napi::CallbackInfo& info) { return Wrap(info.Env(), T(info[0]).reshape(Ints(info[1], "shape"))); }
Napi::Value Permute(const Napi::CallbackInfo& info) { return Wrap(info.Env(), T(info[0]).permute(Ints(info[1], "dims"))); }
Napi::Value Expand(const Napi::CallbackInfo& info) { return Wrap(info.Env(), T(info[0]).expand(Ints(info[1], "shape"))); }
// slice(h, dim, start|null, end|null, step)
Napi::Value Slice(const Napi::CallbackInfo& info) {
  c10::optional<int64_t> start, end;
  if (info[2].IsNumber()) start = Int(info[2], "start");
  if (info[3].IsNumber()) end = Int(info[3], "end");
  int64_t step = info[4].IsNumber() ? Int(info[4], "step") : 1;
  if (step <= 0) throw ArgError("step must be positive");
  return Wrap(info.Env(), T(info[0]).slice(Int(info[1], "dim"), start, end, step));
}
Napi::Value Cat(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::cat(TensorList(info[0], "cat"), Int(info[1], "dim")));
}
Napi::Value Stack(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::stack(TensorList(info[0], "stack"), Int(info[1], "dim")));
}
Napi::Value OneHot(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::one_hot(T(info[0]), Int(info[1], "numClasses")));
}

// to(h, dtype|null, device|null)
Napi::Value To(const Napi::CallbackInfo& info) {
  auto& x = T(info[0]);
  at::Tensor r = x;
  if (info[2].IsString()) r = r.to(ParseDevice(info[2].As<Napi::String>().Utf8Value()));
  if (info[1].IsString()) r = r.to(Dtype(info[1].As<Napi::String>().Utf8Value()));
  return Wrap(info.Env(), r);
}

// ---------------------------------------------------------------- autograd

Napi::Value GetGrad(const Napi::CallbackInfo& info) { return WrapOpt(info.Env(), T(info[0]).grad()); }

Napi::Value SetGrad(const Napi::CallbackInfo& info) {
  auto& x = T(info[0]);
  x.mutable_grad() = UndefOr(info[1], "grad");
  return info.Env().Undefined();
}

// backward(h, gradOutput|null, retainGraph, createGraph)
Napi::Value Backward(const Napi::CallbackInfo& info) {
  auto& x = T(info[0]);
  at::Tensor g = UndefOr(info[1], "gradient");
  bool create = Bool(info[3]);
  c10::optional<bool> retain;
  if (info[2].IsBoolean()) retain = Bool(info[2]);
  x.backward(g, retain, create);
  return info.Env().Undefined();
}

// grad(outputs[], inputs[], gradOutputs[]|null, retainGraph|null, createGraph, allowUnused) -> (tensor|null)[]
Napi::Value Grad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto outs = TensorList(info[0], "outputs");
  auto ins = TensorList(info[1], "inputs");
  std::vector<at::Tensor> gouts;
  if (info[2].IsArray()) {
    auto a = info[2].As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) gouts.push_back(UndefOr(a.Get(i), "gradOutputs"));
  }
  c10::optional<bool> retain;
  if (info[3].IsBoolean()) retain = Bool(info[3]);
  bool create = Bool(info[4]);
  bool allowUnused = Bool(info[5]);
  auto res = torch::autograd::grad(outs, ins, gouts, retain, create, allowUnused);
  auto arr = Napi::Array::New(env, res.size());
  for (size_t i = 0; i < res.size(); i++) arr.Set(static_cast<uint32_t>(i), WrapOpt(env, res[i]));
  return arr;
}

Napi::Value SetGradEnabled(const Napi::CallbackInfo& info) {
  bool prev = at::GradMode::is_enabled();
  at::GradMode::set_enabled(Bool(info[0]));
  return Napi::Boolean::New(info.Env(), prev);
}

Napi::Value IsGradEnabled(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), at::GradMode::is_enabled());
}

// ---------------------------------------------------------------- nn functional

// conv2d(x, w, b|null, stride, padding, dilation, groups)
// Depthwise convolutions go to depthwise.cc, small 1×1 ones to pointwise.cc, when setDepthwiseKernel(true).
Napi::Value Conv2d(const Napi::CallbackInfo& info) {
  const at::Tensor& x = T(info[0], "input");
  const at::Tensor& w = T(info[1], "weight");
  c10::optional<at::Tensor> b = OptT(info[2], "bias");
  auto stride = Ints(info[3], "stride");
  auto padding = Ints(info[4], "padding");
  auto dilation = Ints(info[5], "dilation");
  int64_t groups = Int(info[6], "groups");
  if (rdarts::DepthwiseNativeEnabled() && rdarts::DepthwiseEligible(x, w, b.has_value() && b->defined(), stride, padding, dilation, groups))
    return Wrap(info.Env(), rdarts::DepthwiseConv2d(x, w, stride, padding, dilation));
  if (rdarts::DepthwiseNativeEnabled() && rdarts::PointwiseEligible(x, w, b.has_value() && b->defined(), stride, padding, dilation, groups))
    return Wrap(info.Env(), rdarts::PointwiseConv2d(x, w));
  return Wrap(info.Env(), at::conv2d(x, w, b, stride, padding, dilation, groups));
}

// convTranspose2d(x, w [Cin, Cout/groups, kh, kw], b|null, stride, padding, outputPadding, groups, dilation)
// libtorch's own autograd differentiates it (its backward is a conv2d and a weight gradient, both
// differentiable again), so double backward needs nothing here.
Napi::Value ConvTranspose2d(const Napi::CallbackInfo& info) {
  const at::Tensor& x = T(info[0], "input");
  const at::Tensor& w = T(info[1], "weight");
  c10::optional<at::Tensor> b = OptT(info[2], "bias");
  return Wrap(info.Env(), at::conv_transpose2d(x, w, b, Ints(info[3], "stride"), Ints(info[4], "padding"), Ints(info[5], "outputPadding"),
                                               Int(info[6], "groups"), Ints(info[7], "dilation")));
}

// upsampleBilinear2d(x, [outH, outW], alignCorners): at::upsample_bilinear2d with an explicit
// output size and no scale factors (as F.interpolate(size=..., mode='bilinear') calls it).
Napi::Value UpsampleBilinear2d(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::upsample_bilinear2d(T(info[0], "input"), Ints(info[1], "size"), Bool(info[2]), c10::nullopt, c10::nullopt));
}

// leakyRelu(x, negativeSlope)
Napi::Value LeakyRelu(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::leaky_relu(T(info[0], "input"), Num(info[1], "negativeSlope")));
}

// setDepthwiseKernel(on) -> previous setting
Napi::Value SetDepthwiseKernel(const Napi::CallbackInfo& info) {
  bool prev = rdarts::DepthwiseNativeEnabled();
  rdarts::SetDepthwiseNativeEnabled(Bool(info[0]));
  return Napi::Boolean::New(info.Env(), prev);
}

Napi::Value DepthwiseKernelCalls(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(rdarts::DepthwiseKernelCalls()));
}

Napi::Value PointwiseKernelCalls(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(rdarts::PointwiseKernelCalls()));
}

// batchNorm(x, weight|null, bias|null, runningMean|null, runningVar|null, training, momentum, eps)
// In training mode without affine parameters (the search supernet's), with the addon's kernels on,
// norm.cc's batch norm, which keeps its output rather than its input for the backward.
Napi::Value BatchNorm(const Napi::CallbackInfo& info) {
  const at::Tensor& x = T(info[0], "input");
  c10::optional<at::Tensor> w = OptT(info[1], "weight"), b = OptT(info[2], "bias");
  const bool training = Bool(info[5]);
  if (rdarts::DepthwiseNativeEnabled() && rdarts::BatchNormEligible(x, w.has_value() && w->defined(), b.has_value() && b->defined(), training)) {
    c10::optional<at::Tensor> rm = OptT(info[3], "running_mean"), rv = OptT(info[4], "running_var");
    return Wrap(info.Env(), rdarts::BatchNormTrain(x, rm.has_value() ? *rm : at::Tensor(), rv.has_value() ? *rv : at::Tensor(),
                                                   Num(info[6], "momentum"), Num(info[7], "eps")));
  }
  return Wrap(info.Env(), at::batch_norm(T(info[0], "input"), OptT(info[1], "weight"), OptT(info[2], "bias"), OptT(info[3], "running_mean"),
                                         OptT(info[4], "running_var"), Bool(info[5]), Num(info[6], "momentum"), Num(info[7], "eps"),
                                         /*cudnn_enabled=*/true));
}

// maxPool2d(x, kernel, stride, padding, dilation, ceilMode)
// With the addon's kernels on (setDepthwiseKernel), pool.cc's vectorised forward computes it
// (dilation 1, floor mode); libtorch's own max_pool2d otherwise.
Napi::Value MaxPool2d(const Napi::CallbackInfo& info) {
  const at::Tensor& x = T(info[0]);
  auto kernel = Ints(info[1], "kernel");
  auto stride = Ints(info[2], "stride");
  auto padding = Ints(info[3], "padding");
  auto dilation = Ints(info[4], "dilation");
  bool ceil = Bool(info[5]);
  if (rdarts::DepthwiseNativeEnabled() && rdarts::MaxPoolEligible(x, kernel, stride, padding, dilation, ceil))
    return Wrap(info.Env(), rdarts::MaxPool2d(x, kernel, stride, padding));
  return Wrap(info.Env(), at::max_pool2d(x, kernel, stride, padding, dilation, ceil));
}

// profileStart(); profileStop() -> [{name, calls, totalUs, selfUs}] by self time (profile.cc)
Napi::Value ProfileStart(const Napi::CallbackInfo& info) {
  rdarts::ProfileStart();
  return info.Env().Undefined();
}

Napi::Value ProfileStop(const Napi::CallbackInfo& info) {
  const auto rows = rdarts::ProfileStop();
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env, rows.size());
  for (size_t i = 0; i < rows.size(); i++) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", rows[i].name);
    o.Set("calls", static_cast<double>(rows[i].calls));
    o.Set("totalUs", rows[i].totalUs);
    o.Set("selfUs", rows[i].selfUs);
    out.Set(static_cast<uint32_t>(i), o);
  }
  return out;
}

Napi::Value BatchNormKernelCalls(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(rdarts::BatchNormKernelCalls()));
}

// weightedSum(terms[], w (1-d), index[]) = Σ_k w[index[k]] · terms[k]: a mixed node's sum. With the
// addon's kernels on, wsum.cc's one-pass kernel and backward; libtorch's mul and add otherwise.
Napi::Value WeightedSum(const Napi::CallbackInfo& info) {
  std::vector<at::Tensor> terms = TensorList(info[0], "weightedSum");
  const at::Tensor& w = T(info[1], "weights");
  std::vector<int64_t> index = Ints(info[2], "index");
  if (terms.size() != index.size()) throw std::invalid_argument("weightedSum: " + std::to_string(terms.size()) + " terms but " + std::to_string(index.size()) + " indexes");
  if (terms.empty()) throw std::invalid_argument("weightedSum: no terms");
  if (w.dim() != 1) throw std::invalid_argument("weightedSum: the weights must be 1-d");
  for (int64_t i : index)
    if (i < 0 || i >= w.size(0)) throw std::invalid_argument("weightedSum: index " + std::to_string(i) + " is outside the " + std::to_string(w.size(0)) + " weights");
  if (rdarts::DepthwiseNativeEnabled() && rdarts::WeightedSumEligible(terms, w))
    return Wrap(info.Env(), rdarts::WeightedSum(terms, w, index));
  return Wrap(info.Env(), rdarts::WeightedSumComposed(terms, w, index));
}

Napi::Value WeightedSumKernelCalls(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(rdarts::WeightedSumKernelCalls()));
}

Napi::Value MaxPoolKernelCalls(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(rdarts::MaxPoolKernelCalls()));
}

// avgPool2d(x, kernel, stride, padding, ceilMode, countIncludePad)
// With the addon's depthwise path on, average pooling (floor mode) is a depthwise convolution
// with a constant kernel divided by the window's element count (depthwise.cc), whose backward is
// again a forward convolution; libtorch's own avg_pool2d otherwise.
Napi::Value AvgPool2d(const Napi::CallbackInfo& info) {
  const at::Tensor& x = T(info[0]);
  auto kernel = Ints(info[1], "kernel");
  auto stride = Ints(info[2], "stride");
  auto padding = Ints(info[3], "padding");
  bool ceil = Bool(info[4]);
  bool countIncludePad = Bool(info[5]);
  if (rdarts::DepthwiseNativeEnabled() && !ceil && rdarts::AvgPoolEligible(x, kernel, stride, padding))
    return Wrap(info.Env(), rdarts::AvgPool2d(x, kernel, stride, padding, countIncludePad));
  return Wrap(info.Env(), at::avg_pool2d(x, kernel, stride, padding, ceil, countIncludePad));
}

Napi::Value AdaptiveAvgPool2d(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::adaptive_avg_pool2d(T(info[0]), Ints(info[1], "outputSize")));
}

Napi::Value Linear(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::linear(T(info[0], "input"), T(info[1], "weight"), OptT(info[2], "bias")));
}

Napi::Value Dropout(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::dropout(T(info[0]), Num(info[1], "p"), Bool(info[2])));
}

Napi::Value Softmax(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::softmax(T(info[0]), Int(info[1], "dim")));
}

Napi::Value LogSoftmax(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::log_softmax(T(info[0]), Int(info[1], "dim")));
}

// crossEntropy(logits, target, reduction ('mean'|'sum'|'none'), labelSmoothing)
Napi::Value CrossEntropy(const Napi::CallbackInfo& info) {
  std::string red = info[2].IsString() ? info[2].As<Napi::String>().Utf8Value() : "mean";
  int64_t r = red == "mean" ? at::Reduction::Mean : red == "sum" ? at::Reduction::Sum : at::Reduction::None;
  double ls = info[3].IsNumber() ? Num(info[3], "labelSmoothing") : 0.0;
  return Wrap(info.Env(), at::cross_entropy_loss(T(info[0], "input"), T(info[1], "target"), c10::nullopt, r, -100, ls));
}

Napi::Value Embedding(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::embedding(T(info[0], "weight"), T(info[1], "indices")));
}

// ---------------------------------------------------------------- runtime

Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  uint64_t seed = static_cast<uint64_t>(Int(info[0], "seed"));
  torch::manual_seed(seed);
  return info.Env().Undefined();
}

Napi::Value GetRngState(const Napi::CallbackInfo& info) {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  at::Tensor st = gen.get_state();
  return Napi::Buffer<uint8_t>::Copy(info.Env(), st.data_ptr<uint8_t>(), st.numel());
}

Napi::Value SetRngState(const Napi::CallbackInfo& info) {
  if (!info[0].IsTypedArray()) throw ArgError("expected a Uint8Array");
  auto ta = info[0].As<Napi::TypedArray>();
  at::Tensor st = at::empty({static_cast<int64_t>(ta.ByteLength())}, at::kByte);
  std::memcpy(st.data_ptr(), static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset(), ta.ByteLength());
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(st);
  return info.Env().Undefined();
}

// addonParallelThreads() -> how many threads an at::parallel_for in the addon's own code runs on
// (64 items, grain 1). Equal to getNumThreads() when the addon is built with OpenMP; 1 if it is
// not, since ATen's header then runs the loop serially (docs/speed.md#threads).
Napi::Value AddonParallelThreads(const Napi::CallbackInfo& info) {
  std::atomic<uint64_t> seen{0};
  at::parallel_for(0, 64, 1, [&](int64_t, int64_t) { seen.fetch_or(uint64_t{1} << (at::get_thread_num() & 63)); });
  return Napi::Number::New(info.Env(), static_cast<double>(__builtin_popcountll(seen.load())));
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  int n = static_cast<int>(Int(info[0], "threads"));
  if (n < 1) throw ArgError("need at least one thread");
  at::set_num_threads(n);
  return info.Env().Undefined();
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), at::get_num_threads()); }

Napi::Value CudaAvailable(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), torch::cuda::is_available()); }

Napi::Value CudaDeviceCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(torch::cuda::device_count()));
}

Napi::Value SetDeterministic(const Napi::CallbackInfo& info) {
  at::globalContext().setDeterministicAlgorithms(Bool(info[0]), /*warn_only=*/true);
  return info.Env().Undefined();
}

Napi::Value Version(const Napi::CallbackInfo& info) {
  std::ostringstream s;
  s << TORCH_VERSION_MAJOR << "." << TORCH_VERSION_MINOR << "." << TORCH_VERSION_PATCH;
  return Napi::String::New(info.Env(), s.str());
}

Napi::Value Config(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), at::show_config()); }

Napi::Value Noop(const Napi::CallbackInfo& info) { return info.Env().Undefined(); }

// benchAdd(h, n): n calls of at::add(x, x) from C++, for the bench's floor of libtorch's own cost (µs per call)
Napi::Value BenchAdd(const Napi::CallbackInfo& info) {
  auto& x = T(info[0]);
  int64_t n = Int(info[1], "n");
  auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < n; i++) {
    at::Tensor r = at::add(x, x);
  }
  auto t1 = std::chrono::steady_clock::now();
  return Napi::Number::New(info.Env(), std::chrono::duration<double, std::micro>(t1 - t0).count() / static_cast<double>(n));
}

// an export whose errors name a different public op
#define EXPORT_AS(name, op, fn) exports.Set(name, Napi::Function::New<Guard<fn>>(env, name, const_cast<void*>(static_cast<const void*>(op))))

// The allocator policy (docs/speed.md#allocator), read once when the addon loads:
//   cache  (the default; RDARTS_MALLOC=cache) libtorch's CPU tensors come from the addon's caching
//          allocator (alloc.cc): freed blocks are kept per size class and handed out again, so a
//          step's buffers stop going through glibc's free lists and fresh page faults;
//   keep   (RDARTS_MALLOC=keep, glibc) glibc keeps freed memory in its heap (mmap only above
//          32 MB, no trimming): fewer faults, but longer free lists; measured slower;
//   system (RDARTS_MALLOC=system) libtorch's own allocator on glibc's defaults.
// The TS side (torch/native.ts) rejects any other value before the addon loads.
const char* SetAllocatorPolicy() {
  const char* env = std::getenv("RDARTS_MALLOC");
  const std::string policy = env == nullptr ? "" : env;
  if (policy == "system") return "system";
#if defined(__GLIBC__)
  if (policy == "keep") {
    if (mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 && mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max()) == 1) return "keep";
    return "system";
  }
#endif
  return rdarts::InstallCachingAllocator() ? "cache" : "system";
}

const char* g_allocatorPolicy = "system";

// allocatorPolicy() -> 'cache' | 'keep' | 'system'
Napi::Value AllocatorPolicy(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), g_allocatorPolicy); }

// allocatorCacheStats() -> { hits, misses, released, liveBytes, idleBytes } of the caching allocator
Napi::Value AllocatorCacheStats(const Napi::CallbackInfo& info) {
  const rdarts::CacheStats s = rdarts::CachingAllocatorStats();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("hits", Napi::Number::New(info.Env(), static_cast<double>(s.hits)));
  o.Set("misses", Napi::Number::New(info.Env(), static_cast<double>(s.misses)));
  o.Set("released", Napi::Number::New(info.Env(), static_cast<double>(s.released)));
  o.Set("liveBytes", Napi::Number::New(info.Env(), static_cast<double>(s.liveBytes)));
  o.Set("idleBytes", Napi::Number::New(info.Env(), static_cast<double>(s.idleBytes)));
  return o;
}

// emptyAllocatorCache(): hand the caching allocator's idle blocks back to the system
Napi::Value EmptyAllocatorCache(const Napi::CallbackInfo& info) {
  rdarts::EmptyCache();
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  g_allocatorPolicy = SetAllocatorPolicy();
  EXPORT("allocatorPolicy", AllocatorPolicy);
  EXPORT("allocatorCacheStats", AllocatorCacheStats);
  EXPORT("emptyAllocatorCache", EmptyAllocatorCache);
  EXPORT("setErrorClass", SetErrorClass);
  EXPORT("dispose", Dispose);
  EXPORT("isDisposed", IsDisposed);
  EXPORT("liveCount", LiveCount);
  EXPORT("shape", Shape);
  EXPORT("dtype", DtypeOf);
  EXPORT("device", DeviceOf);
  EXPORT("numel", Numel);
  EXPORT("requiresGrad", RequiresGrad);
  EXPORT("isLeaf", IsLeaf);
  EXPORT("setRequiresGrad", SetRequiresGrad);
  EXPORT_AS("fromArray", "tensor", FromArray);
  EXPORT("fromBytes", FromBytes);
  EXPORT("toBytes", ToBytes);
  EXPORT("toArray", ToArray);
  EXPORT("item", Item);
  EXPORT("arange", Arange);
  EXPORT("bernoulli", Bernoulli);
  EXPORT("normal", Normal);
  EXPORT("zeros", CreateAs);
  EXPORT("ones", CreateAs);
  EXPORT("empty", CreateAs);
  EXPORT("full", CreateAs);
  EXPORT("randn", CreateAs);
  EXPORT("rand", CreateAs);
  EXPORT("uniform_", FillRandomAs);
  EXPORT("normal_", FillRandomAs);
  ExportGeneratedOps(env, exports);
  EXPORT("clamp_", ClampInplace);
  EXPORT("where", Where);
  EXPORT("clamp", Clamp);
  EXPORT("norm", Norm);
  EXPORT("maxDim", MaxDim);
  EXPORT("minDim", MaxDim);
  EXPORT("argmax", Argmax);
  EXPORT("argmin", Argmax);
  EXPORT("topk", Topk);
  EXPORT("sort", Sort);
  EXPORT("view", View);
  EXPORT("reshape", Reshape);
  EXPORT("permute", Permute);
  EXPORT("expand", Expand);
  EXPORT("slice", Slice);
  EXPORT("cat", Cat);
  EXPORT("stack", Stack);
  EXPORT("oneHot", OneHot);
  EXPORT("to", To);
  EXPORT("getGrad", GetGrad);
  EXPORT("setGrad", SetGrad);
  EXPORT("backward", Backward);
  EXPORT("grad", Grad);
  EXPORT("setGradEnabled", SetGradEnabled);
  EXPORT("isGradEnabled", IsGradEnabled);
  EXPORT("conv2d", Conv2d);
  EXPORT("convTranspose2d", ConvTranspose2d);
  EXPORT("upsampleBilinear2d", UpsampleBilinear2d);
  EXPORT("leakyRelu", LeakyRelu);
  EXPORT("setDepthwiseKernel", SetDepthwiseKernel);
  EXPORT("depthwiseKernelCalls", DepthwiseKernelCalls);
  EXPORT("pointwiseKernelCalls", PointwiseKernelCalls);
  EXPORT("maxPoolKernelCalls", MaxPoolKernelCalls);
  EXPORT("batchNormKernelCalls", BatchNormKernelCalls);
  EXPORT("weightedSum", WeightedSum);
  EXPORT("addonParallelThreads", AddonParallelThreads);
  EXPORT("weightedSumKernelCalls", WeightedSumKernelCalls);
  EXPORT("profileStart", ProfileStart);
  EXPORT("profileStop", ProfileStop);
  EXPORT("batchNorm", BatchNorm);
  EXPORT("maxPool2d", MaxPool2d);
  EXPORT("avgPool2d", AvgPool2d);
  EXPORT("adaptiveAvgPool2d", AdaptiveAvgPool2d);
  EXPORT("linear", Linear);
  EXPORT("dropout", Dropout);
  EXPORT("softmax", Softmax);
  EXPORT("logSoftmax", LogSoftmax);
  EXPORT("crossEntropy", CrossEntropy);
  EXPORT("embedding", Embedding);
  EXPORT("manualSeed", ManualSeed);
  EXPORT("getRngState", GetRngState);
  EXPORT("setRngState", SetRngState);
  EXPORT("setNumThreads", SetNumThreads);
  EXPORT("getNumThreads", GetNumThreads);
  EXPORT("cudaAvailable", CudaAvailable);
  EXPORT("cudaDeviceCount", CudaDeviceCount);
  EXPORT("setDeterministic", SetDeterministic);
  EXPORT("version", Version);
  EXPORT("config", Config);
  EXPORT("noop", Noop);
  EXPORT("benchAdd", BenchAdd);
  return exports;
}

}  // namespace

NODE_API_MODULE(rdarts_torch, Init)
