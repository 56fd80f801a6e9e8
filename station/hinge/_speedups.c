/* station.hinge._speedups: the C kernel (_ckernel.c, _cfilter.c) as a Python type.
 *
 * Core mirrors station/hinge/_reference.py's Core: update (a live frame: the station's whole
 * per-frame work in one call, trace ring included), step, finish, trace_rows, and `run`, a whole
 * recording in one call. Input is read as the reference reads it: a C-contiguous (17, 3) float32
 * or float64 numpy array directly, anything else through the reference's own reader
 * (`_reference.frame_values`), which converts it or raises the specification's exception. Where
 * the reference raises, these raise the same exception types. Multi-phase init, no global
 * mutable state; the kernel finds its settings by name in station.hinge._layout.PARAM_NAMES
 * when the module loads, and refuses a layout it was not built for.
 */
#include "_ckernel.h"
#include <stddef.h>

#if PY_VERSION_HEX >= 0x030C0000
#define M_DOUBLE Py_T_DOUBLE
#define M_INT Py_T_INT
#define M_LONGLONG Py_T_LONGLONG
#define M_READONLY Py_READONLY
#else
#include <structmember.h>
#define M_DOUBLE T_DOUBLE
#define M_INT T_INT
#define M_LONGLONG T_LONGLONG
#define M_READONLY READONLY
#endif

#define TRACE_ROWS 4096 /* _layout.TRACE_ROWS: rows of the trace a live core keeps */

#define PARAM_NAME(name) #name,
static const char *const USED_NAMES[N_USED] = {KERNEL_PARAMS(PARAM_NAME)};

typedef struct {
    Py_ssize_t param_index[N_USED]; /* where each kernel setting sits in the params array */
    Py_ssize_t n_params;
    PyTypeObject *core_type;
    PyObject *ndarray_type; /* numpy.ndarray: frames of exactly this type may be read here */
    PyObject *float32, *float64; /* numpy's native float32 and float64 dtypes */
    int array_head_ok; /* ArrayHead matches this numpy (checked when the module loads) */
    PyObject *frame_values; /* station.hinge._reference.frame_values: every other frame */
} ModState;

static struct PyModuleDef module_def;

static PyObject *raise_kernel_error(const Kernel *c) {
    if (c->err == ERR_OVERFLOW) {
        PyErr_SetString(PyExc_OverflowError, "math range error");
    } else {
        PyErr_SetString(PyExc_ZeroDivisionError, "float division by zero");
    }
    return NULL;
}

/* ------------------------------------------------------------------ reading Python input */

/* 'f' or 'd' for a native float32/float64 buffer format, else 0. */
static char float_format(const char *fmt) {
    if (fmt == NULL) return 0;
    if (fmt[0] == '@' || fmt[0] == '=' || (PY_LITTLE_ENDIAN && fmt[0] == '<') || (!PY_LITTLE_ENDIAN && fmt[0] == '>')) fmt++;
    if ((fmt[0] == 'f' || fmt[0] == 'd') && fmt[1] == '\0') return fmt[0];
    return 0;
}

/* A C-ordered (17, 3) frame of float32 or float64 values at `data`, as doubles. */
static inline void copy_frame(const void *data, int is_float32, double *v) {
    if (is_float32) {
        float f[N_KP];
        memcpy(f, data, sizeof f);
        for (int i = 0; i < N_KP; i++) v[i] = (double)f[i];
    } else {
        memcpy(v, data, N_KP * sizeof(double));
    }
}

/* The head of a numpy array object (numpy's PyArrayObject_fields): every compiled numpy extension
 * reads these fields through numpy's inline macros, so they are numpy's ABI, the same in 1.x and
 * 2.x. Read directly, a frame costs a few loads, where the buffer protocol builds (and numpy
 * caches, per array) a format string and shape arrays. module_exec checks the layout against the
 * buffer protocol and uses the buffer where they disagree. */
typedef struct {
    PyObject_HEAD
    char *data;
    int nd;
    Py_ssize_t *dimensions;
    Py_ssize_t *strides;
    PyObject *base;
    PyObject *descr;
} ArrayHead;

/* 1 if the array is a C-ordered (17, 3) native float32 or float64 frame, read into v. */
static inline int read_array_head(const ModState *st, PyObject *obj, double *v) {
    const ArrayHead *a = (const ArrayHead *)obj;
    if (a->nd != 2 || a->dimensions[0] != 17 || a->dimensions[1] != 3) return 0;
    int is_float32 = a->descr == st->float32;
    Py_ssize_t item = is_float32 ? 4 : 8;
    if (!(is_float32 || a->descr == st->float64) || a->strides[0] != 3 * item || a->strides[1] != item) return 0;
    copy_frame(a->data, is_float32, v);
    return 1;
}

/* 1 if the object's buffer is a C-ordered (17, 3) native float32 or float64 frame, read into v. */
static int read_buffer(PyObject *obj, double *v) {
    Py_buffer view;
    if (PyObject_GetBuffer(obj, &view, PyBUF_ND | PyBUF_FORMAT) < 0) { /* PyBUF_ND: C order or refused */
        PyErr_Clear();
        return 0;
    }
    char f = float_format(view.format);
    int ok = f && view.ndim == 2 && view.shape[0] == 17 && view.shape[1] == 3 && PyBuffer_IsContiguous(&view, 'C');
    if (ok) copy_frame(view.buf, f == 'f', v);
    PyBuffer_Release(&view);
    return ok;
}

/* A frame's 51 values as `_reference.frame_values` reads them. The station's frames, C-ordered
 * (17, 3) float32 (or float64) numpy arrays, are read here; anything else goes through
 * frame_values itself, which converts other real arrays exactly and raises the specification's
 * TypeError or ValueError (with its message) for the rest. */
static int read_frame(const ModState *st, PyObject *obj, double *v) {
    if (Py_IS_TYPE(obj, (PyTypeObject *)st->ndarray_type)) {
        if (st->array_head_ok && read_array_head(st, obj, v)) return 0;
        if (read_buffer(obj, v)) return 0; /* e.g. an unpickled array: its float32 dtype is a copy */
    }
    PyObject *values = PyObject_CallOneArg(st->frame_values, obj);
    if (values == NULL) return -1;
    if (!PyList_CheckExact(values) || PyList_GET_SIZE(values) != N_KP) {
        Py_DECREF(values);
        PyErr_SetString(PyExc_SystemError, "station.hinge._reference.frame_values must return a list of 51 floats");
        return -1;
    }
    for (int i = 0; i < N_KP; i++) {
        v[i] = PyFloat_AsDouble(PyList_GET_ITEM(values, i));
        if (v[i] == -1.0 && PyErr_Occurred()) {
            Py_DECREF(values);
            return -1;
        }
    }
    Py_DECREF(values);
    return 0;
}

/* float(obj), as the reference converts every time and setting. */
static int float_of(PyObject *obj, double *out) {
    if (PyFloat_CheckExact(obj)) {
        *out = PyFloat_AS_DOUBLE(obj);
        return 0;
    }
    PyObject *f = PyNumber_Float(obj);
    if (f == NULL) return -1;
    *out = PyFloat_AS_DOUBLE(f);
    Py_DECREF(f);
    return 0;
}

/* ------------------------------------------------------------------ Core */

typedef struct {
    double *rows; /* capacity rows of TRACE_COLUMNS */
    Py_ssize_t capacity, next;
    int full;
} Ring;

typedef struct {
    PyObject_HEAD
    const ModState *st; /* the module's state (the type, or its base, keeps the module alive) */
    int busy;           /* a batch runs without the GIL: other threads must not step meanwhile */
    long long frames;   /* frames taken by update */
    Ring ring;          /* their trace rows, for grading */
    Kernel k;
} CoreObject;

static PyObject *core_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"params", "width_px", "height_px", "trace_rows", NULL};
    PyObject *params, *width, *height, *rows_obj = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOO|O:Core", kwlist, &params, &width, &height, &rows_obj)) return NULL;
    PyObject *module = PyType_GetModuleByDef(type, &module_def);
    if (module == NULL) return NULL;
    const ModState *st = (const ModState *)PyModule_GetState(module);
    Py_ssize_t n = PyObject_Length(params);
    if (n < 0) return NULL;
    if (n != st->n_params) {
        return PyErr_Format(PyExc_ValueError, "params has %zd values, expected %zd", n, st->n_params);
    }
    PyObject *seq = PySequence_Fast(params, "params must be a sequence of numbers");
    if (seq == NULL) return NULL;
    double all[256];
    Py_ssize_t m = PySequence_Fast_GET_SIZE(seq);
    if (m != n || m > 256) {
        Py_DECREF(seq);
        return PyErr_Format(PyExc_ValueError, "params has %zd values, expected %zd", m, st->n_params);
    }
    for (Py_ssize_t i = 0; i < m; i++) {
        if (float_of(PySequence_Fast_GET_ITEM(seq, i), &all[i]) < 0) {
            Py_DECREF(seq);
            return NULL;
        }
    }
    Py_DECREF(seq);
    double w, h;
    if (float_of(width, &w) < 0 || float_of(height, &h) < 0) return NULL;
    Py_ssize_t rows = TRACE_ROWS;
    if (rows_obj != NULL) { /* operator.index(trace_rows), then a positive count */
        PyObject *index = PyNumber_Index(rows_obj);
        if (index == NULL) return NULL;
        rows = PyLong_AsSsize_t(index);
        Py_DECREF(index);
        if (rows == -1 && PyErr_Occurred()) return NULL;
        if (rows < 1) return PyErr_Format(PyExc_ValueError, "trace_rows must be a positive number of rows, got %zd", rows);
    }
    if ((size_t)rows > PY_SSIZE_T_MAX / (N_TRACE * sizeof(double))) return PyErr_NoMemory();
    CoreObject *self = (CoreObject *)type->tp_alloc(type, 0);
    if (self == NULL) return NULL;
    self->ring.rows = (double *)PyMem_Calloc((size_t)rows * N_TRACE, sizeof(double));
    if (self->ring.rows == NULL) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    self->st = st;
    self->busy = 0;
    self->frames = 0;
    self->ring.capacity = rows;
    self->ring.next = 0;
    self->ring.full = 0;
    hinge_init(&self->k, w, h);
    for (int k = 0; k < N_USED; k++) self->k.p[k] = all[st->param_index[k]];
    return (PyObject *)self;
}

static void core_dealloc(PyObject *self) {
    PyTypeObject *tp = Py_TYPE(self);
    PyMem_Free(((CoreObject *)self)->ring.rows);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static inline int check_idle(CoreObject *self) {
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "this Core is running a batch in another thread");
        return -1;
    }
    return 0;
}

/* The (keypoints, t) arguments of step and update, read as the reference reads them. */
static int read_args(CoreObject *self, PyObject *const *args, Py_ssize_t nargs, const char *name, double *v, double *t) {
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "%s() takes 2 arguments (keypoints, t), got %zd", name, nargs);
        return -1;
    }
    if (check_idle(self) < 0 || read_frame(self->st, args[0], v) < 0) return -1;
    return float_of(args[1], t);
}

PyDoc_STRVAR(core_update_doc, "update(keypoints, t_s) -> int\n--\n\n"
             "A live frame ((17, 3) [y, x, score] normalised; NaN = missing) at time t_s: skipped (0) unless\n"
             "time moves forward; stepped, its trace row kept and the frame counted. Returns the event bits.");

static PyObject *core_update(PyObject *op, PyObject *const *args, Py_ssize_t nargs) {
    CoreObject *self = (CoreObject *)op;
    double v[N_KP], t;
    if (read_args(self, args, nargs, "update", v, &t) < 0) return NULL;
    Kernel *c = &self->k;
    if (!(t > c->t_prev)) return PyLong_FromLong(0); /* a repeated or out-of-order timestamp */
    int bits = hinge_step(c, v, t);
    if (bits < 0) return raise_kernel_error(c);
    Ring *r = &self->ring;
    trace_row(c, t, r->rows + r->next * N_TRACE);
    if (++r->next == r->capacity) {
        r->next = 0;
        r->full = 1;
    }
    self->frames += 1;
    return PyLong_FromLong(bits); /* a small int: cached, nothing allocated */
}

PyDoc_STRVAR(core_step_doc, "step(keypoints, t) -> int\n--\n\n"
             "Feed one frame ((17, 3) [y, x, score] normalised; NaN = missing) at time t; return event bits.");

static PyObject *core_step(PyObject *op, PyObject *const *args, Py_ssize_t nargs) {
    CoreObject *self = (CoreObject *)op;
    double v[N_KP], t;
    if (read_args(self, args, nargs, "step", v, &t) < 0) return NULL;
    int bits = hinge_step(&self->k, v, t);
    return bits < 0 ? raise_kernel_error(&self->k) : PyLong_FromLong(bits);
}

PyDoc_STRVAR(core_finish_doc, "finish(t) -> int\n--\n\nEnd of input: a pending rep counts (unless it awaits the bar's lowering), an open set closes; return event bits.");

static PyObject *core_finish(PyObject *op, PyObject *arg) {
    CoreObject *self = (CoreObject *)op;
    (void)arg; /* like the reference, the time is not used */
    if (check_idle(self) < 0) return NULL;
    return PyLong_FromLong(hinge_finish(&self->k));
}

PyDoc_STRVAR(core_trace_rows_doc, "trace_rows() -> bytearray\n--\n\n"
             "The trace rows kept by update (TRACE_COLUMNS), oldest first, as float64 bytes (6 per row).");

static PyObject *core_trace_rows(PyObject *op, PyObject *unused) {
    (void)unused;
    const Ring *r = &((CoreObject *)op)->ring;
    size_t row_bytes = N_TRACE * sizeof(double);
    if (!r->full) return PyByteArray_FromStringAndSize((const char *)r->rows, (Py_ssize_t)((size_t)r->next * row_bytes));
    PyObject *out = PyByteArray_FromStringAndSize(NULL, (Py_ssize_t)((size_t)r->capacity * row_bytes));
    if (out == NULL) return NULL;
    char *dst = PyByteArray_AS_STRING(out);
    size_t older = (size_t)(r->capacity - r->next) * row_bytes;
    memcpy(dst, r->rows + r->next * N_TRACE, older);
    memcpy(dst + older, r->rows, (size_t)r->next * row_bytes);
    return out;
}

static int get_buffer(PyObject *obj, Py_buffer *view, int flags, const char *what) {
    if (PyObject_GetBuffer(obj, view, flags) < 0) {
        if (PyObject_CheckBuffer(obj) && (flags & PyBUF_WRITABLE)) {
            PyErr_Format(PyExc_ValueError, "%s must be a writable array", what);
        } else {
            PyErr_Format(PyExc_TypeError, "%s must be a numpy array (an object with the buffer protocol), got %.100s",
                         what, Py_TYPE(obj)->tp_name);
        }
        return -1;
    }
    if (!PyBuffer_IsContiguous(view, 'C')) {
        PyBuffer_Release(view);
        PyErr_Format(PyExc_ValueError, "%s must be C-contiguous (use numpy.ascontiguousarray)", what);
        return -1;
    }
    return 0;
}

static void shape_text(const Py_buffer *view, char *out, size_t size) {
    size_t used = (size_t)PyOS_snprintf(out, size, "(");
    for (int i = 0; i < view->ndim && used < size; i++) {
        used += (size_t)PyOS_snprintf(out + used, size - used, i ? ", %zd" : "%zd", view->shape[i]);
    }
    if (used < size) PyOS_snprintf(out + used, size - used, view->ndim == 1 ? ",)" : ")");
}

typedef struct {
    double *rows;
    size_t n, cap;
} Records;

static int records_push(Records *r, const Kernel *c, double frame, int bits, double t) {
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        if (cap > PY_SSIZE_T_MAX / (N_EVENT * sizeof(double))) return -1;
        double *rows = (double *)PyMem_RawRealloc(r->rows, cap * N_EVENT * sizeof(double));
        if (rows == NULL) return -1;
        r->rows = rows;
        r->cap = cap;
    }
    hinge_event_record(c, frame, bits, t, r->rows + r->n * N_EVENT);
    r->n += 1;
    return 0;
}

PyDoc_STRVAR(core_run_doc, "run(keypoints, t, trace) -> bytearray\n--\n\n"
             "Batch: step over (N, 17, 3) float32/float64 keypoints at float64 times t (N,), then finish.\n"
             "Writes the trace (TRACE_COLUMNS) into the float64 (N, 6) array `trace` and returns the\n"
             "event records (EVENT_COLUMNS) as float64 bytes, one row of 15 per record.");

static PyObject *core_run(PyObject *op, PyObject *const *args, Py_ssize_t nargs) {
    CoreObject *self = (CoreObject *)op;
    if (nargs != 3) return PyErr_Format(PyExc_TypeError, "run() takes 3 arguments (keypoints, t, trace), got %zd", nargs);
    if (check_idle(self) < 0) return NULL;
    Py_buffer kv, tv, rv;
    char shape[96];
    if (get_buffer(args[0], &kv, PyBUF_RECORDS_RO, "keypoints") < 0) return NULL;
    char f = float_format(kv.format);
    if (!f) {
        PyErr_Format(PyExc_TypeError, "keypoints must be float32 or float64, got buffer format '%s'", kv.format ? kv.format : "B");
        PyBuffer_Release(&kv);
        return NULL;
    }
    if (kv.ndim != 3 || kv.shape[1] != 17 || kv.shape[2] != 3) {
        shape_text(&kv, shape, sizeof shape);
        PyErr_Format(PyExc_ValueError, "keypoints must have shape (N, 17, 3), got %s", shape);
        PyBuffer_Release(&kv);
        return NULL;
    }
    Py_ssize_t n = kv.shape[0];
    if (get_buffer(args[1], &tv, PyBUF_RECORDS_RO, "t") < 0) {
        PyBuffer_Release(&kv);
        return NULL;
    }
    if (float_format(tv.format) != 'd' || tv.ndim != 1 || tv.shape[0] != n) {
        if (float_format(tv.format) != 'd') {
            PyErr_Format(PyExc_TypeError, "t must be float64, got buffer format '%s'", tv.format ? tv.format : "B");
        } else {
            shape_text(&tv, shape, sizeof shape);
            PyErr_Format(PyExc_ValueError, "t must have shape (%zd,) to match keypoints, got %s", n, shape);
        }
        PyBuffer_Release(&tv);
        PyBuffer_Release(&kv);
        return NULL;
    }
    if (get_buffer(args[2], &rv, PyBUF_RECORDS, "trace") < 0) {
        PyBuffer_Release(&tv);
        PyBuffer_Release(&kv);
        return NULL;
    }
    if (float_format(rv.format) != 'd' || rv.ndim != 2 || rv.shape[0] != n || rv.shape[1] != N_TRACE) {
        shape_text(&rv, shape, sizeof shape);
        PyErr_Format(PyExc_ValueError, "trace must be a writable float64 array of shape (%zd, %d), got %s", n, N_TRACE, shape);
        PyBuffer_Release(&rv);
        PyBuffer_Release(&tv);
        PyBuffer_Release(&kv);
        return NULL;
    }
    Kernel *c = &self->k;
    Records rec = {NULL, 0, 0};
    int failed = 0;
    const double *ts = (const double *)tv.buf;
    double *trace = (double *)rv.buf;
    self->busy = 1;
    Py_BEGIN_ALLOW_THREADS
    double v[N_KP];
    for (Py_ssize_t i = 0; i < n && !failed; i++) {
        if (f == 'f') {
            const float *src = (const float *)kv.buf + i * N_KP;
            for (int k = 0; k < N_KP; k++) v[k] = (double)src[k];
        } else {
            memcpy(v, (const double *)kv.buf + i * N_KP, sizeof v);
        }
        double ti = ts[i];
        int bits = hinge_step(c, v, ti);
        if (bits < 0) {
            failed = 2;
            break;
        }
        if (bits && records_push(&rec, c, (double)i, bits, ti) < 0) failed = 1;
        trace_row(c, ti, trace + i * N_TRACE);
    }
    if (n && !failed) {
        int bits = hinge_finish(c);
        if (bits && records_push(&rec, c, (double)n, bits, ts[n - 1]) < 0) failed = 1;
    }
    Py_END_ALLOW_THREADS
    self->busy = 0;
    PyBuffer_Release(&rv);
    PyBuffer_Release(&tv);
    PyBuffer_Release(&kv);
    PyObject *out = NULL;
    if (failed == 2) {
        raise_kernel_error(c);
    } else if (failed) {
        PyErr_NoMemory();
    } else {
        out = PyByteArray_FromStringAndSize((const char *)rec.rows, (Py_ssize_t)(rec.n * N_EVENT * sizeof(double)));
    }
    PyMem_RawFree(rec.rows);
    return out;
}

static PyObject *list_d(const double *x, int n) {
    PyObject *out = PyList_New(n);
    if (out == NULL) return NULL;
    for (int i = 0; i < n; i++) {
        PyObject *f = PyFloat_FromDouble(x[i]);
        if (f == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, i, f);
    }
    return out;
}

static int put(PyObject *dict, const char *key, PyObject *value) {
    if (value == NULL) return -1;
    int rc = PyDict_SetItemString(dict, key, value);
    Py_DECREF(value);
    return rc;
}

/* The joint tracks as a dict of lists, keyed like the reference's JointTracks slots. */
static PyObject *core_get_tracks(PyObject *op, void *closure) {
    (void)closure;
    const Tracks *tr = &((CoreObject *)op)->k.tr;
    double tracked[N_JOINTS];
    for (int j = 0; j < N_JOINTS; j++) tracked[j] = tr->tracked[j];
    PyObject *d = PyDict_New();
    if (d == NULL) return NULL;
    if (put(d, "x", list_d(tr->x, N_JOINTS)) < 0 || put(d, "y", list_d(tr->y, N_JOINTS)) < 0
        || put(d, "vx", list_d(tr->vx, N_JOINTS)) < 0 || put(d, "vy", list_d(tr->vy, N_JOINTS)) < 0
        || put(d, "t_seen", list_d(tr->t_seen, N_JOINTS)) < 0 || put(d, "tracked", list_d(tracked, N_JOINTS)) < 0
        || put(d, "rej_x", list_d(tr->rej_x, N_JOINTS)) < 0 || put(d, "rej_y", list_d(tr->rej_y, N_JOINTS)) < 0
        || put(d, "t_rej", list_d(tr->t_rej, N_JOINTS)) < 0 || put(d, "t_far", list_d(tr->t_far, N_JOINTS)) < 0
        || put(d, "near_left", PyBool_FromLong(tr->near_left)) < 0
        || put(d, "frame_jump", PyLong_FromLong(tr->frame_jump)) < 0
        || put(d, "oblique", PyLong_FromLong(tr->oblique)) < 0 || put(d, "near_settled", PyLong_FromLong(tr->near_settled)) < 0
        || put(d, "lock_x", PyFloat_FromDouble(tr->lock_x)) < 0 || put(d, "lock_r", PyFloat_FromDouble(tr->lock_r)) < 0
        || put(d, "plant_x", PyFloat_FromDouble(tr->plant_x)) < 0 || put(d, "plant_r", PyFloat_FromDouble(tr->plant_r)) < 0
        || put(d, "off_plant", PyLong_FromLong(tr->off_plant)) < 0
        || put(d, "t_off", PyFloat_FromDouble(tr->t_off)) < 0
        || put(d, "n_reinit", PyLong_FromLongLong(tr->n_reinit)) < 0) {
        Py_DECREF(d);
        return NULL;
    }
    return d;
}

static PyObject *core_get_near_left(PyObject *op, void *closure) {
    (void)closure;
    return PyBool_FromLong(((CoreObject *)op)->k.near_left);
}

static PyMethodDef core_methods[] = {
    {"update", (PyCFunction)(void (*)(void))core_update, METH_FASTCALL, core_update_doc},
    {"step", (PyCFunction)(void (*)(void))core_step, METH_FASTCALL, core_step_doc},
    {"finish", core_finish, METH_O, core_finish_doc},
    {"trace_rows", core_trace_rows, METH_NOARGS, core_trace_rows_doc},
    {"run", (PyCFunction)(void (*)(void))core_run, METH_FASTCALL, core_run_doc},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef core_getset[] = {
    {"tracks", core_get_tracks, NULL, "the joint tracks (dict of lists, like the reference's JointTracks)", NULL},
    {"near_left", core_get_near_left, NULL, "whether the left labels are the near side", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

#define MEMBER(type, name) {#name, type, offsetof(CoreObject, k.name), M_READONLY, NULL},
static PyMemberDef core_members[] = {
    MEMBER(M_DOUBLE, width_px) MEMBER(M_DOUBLE, height_px) MEMBER(M_DOUBLE, t_prev)
    MEMBER(M_DOUBLE, side_l) MEMBER(M_DOUBLE, side_r) MEMBER(M_DOUBLE, facing_acc) MEMBER(M_INT, facing)
    MEMBER(M_DOUBLE, leg_px) MEMBER(M_DOUBLE, torso_px) MEMBER(M_DOUBLE, view_ratio) MEMBER(M_DOUBLE, t_front)
    MEMBER(M_INT, front_prev) MEMBER(M_DOUBLE, t_turned)
    MEMBER(M_DOUBLE, trunk_deg) MEMBER(M_DOUBLE, knee_deg) MEMBER(M_DOUBLE, travel_L) MEMBER(M_DOUBLE, shoulder_height_L)
    MEMBER(M_INT, ok) MEMBER(M_INT, held) MEMBER(M_DOUBLE, hip_x) MEMBER(M_DOUBLE, ankle_x)
    MEMBER(M_DOUBLE, feet_x) MEMBER(M_DOUBLE, pelvis_x) MEMBER(M_INT, feet_seen)
    MEMBER(M_DOUBLE, rest_x) MEMBER(M_DOUBLE, rest_y) MEMBER(M_LONGLONG, rest_n) MEMBER(M_DOUBLE, rest_feet_x)
    MEMBER(M_INT, phase) MEMBER(M_DOUBLE, t_present) MEMBER(M_DOUBLE, t_upright)
    MEMBER(M_DOUBLE, top_base_deg) MEMBER(M_DOUBLE, t_onset) MEMBER(M_DOUBLE, knee_onset_deg)
    MEMBER(M_DOUBLE, ankle_x_onset) MEMBER(M_DOUBLE, onset_shoulder_L) MEMBER(M_DOUBLE, max_trunk_deg) MEMBER(M_DOUBLE, t_max_trunk)
    MEMBER(M_DOUBLE, ref_trunk_deg) MEMBER(M_DOUBLE, ref_knee_deg) MEMBER(M_DOUBLE, t_progress)
    MEMBER(M_DOUBLE, t_bottom)
    MEMBER(M_DOUBLE, deep_trunk_deg) MEMBER(M_DOUBLE, deep_knee_deg) MEMBER(M_DOUBLE, t_deep) MEMBER(M_DOUBLE, low_shoulder_L) MEMBER(M_INT, pend) MEMBER(M_DOUBLE, pend_t_start)
    MEMBER(M_DOUBLE, pend_t_bottom) MEMBER(M_DOUBLE, pend_t_lockout) MEMBER(M_DOUBLE, pend_hip_x)
    MEMBER(M_DOUBLE, pend_ankle_x) MEMBER(M_INT, pend_side_on) MEMBER(M_INT, pend_floor) MEMBER(M_LONGLONG, rep_n) MEMBER(M_LONGLONG, rep_set_n)
    MEMBER(M_DOUBLE, rep_t_start) MEMBER(M_DOUBLE, rep_t_bottom) MEMBER(M_DOUBLE, rep_t_lockout)
    MEMBER(M_LONGLONG, set_active) MEMBER(M_LONGLONG, set_n) MEMBER(M_LONGLONG, reps_in_set)
    MEMBER(M_DOUBLE, set_t_start) MEMBER(M_DOUBLE, set_t_end) MEMBER(M_LONGLONG, ended_set_n)
    MEMBER(M_LONGLONG, ended_reps) MEMBER(M_DOUBLE, ended_t_start) MEMBER(M_DOUBLE, ended_t_end)
    {"frames", M_LONGLONG, offsetof(CoreObject, frames), M_READONLY, "frames taken by update"},
    {NULL, 0, 0, 0, NULL},
};

PyDoc_STRVAR(core_doc, "Core(params, width_px, height_px, trace_rows=4096)\n--\n\n"
             "Streaming phase detector state over plain numbers: the C port of the reference Core.");

static PyType_Slot core_slots[] = {
    {Py_tp_new, (void *)core_new},
    {Py_tp_dealloc, (void *)core_dealloc},
    {Py_tp_methods, core_methods},
    {Py_tp_members, core_members},
    {Py_tp_getset, core_getset},
    {Py_tp_doc, (void *)core_doc},
    {0, NULL},
};

static PyType_Spec core_spec = {
    .name = "station.hinge._speedups.Core",
    .basicsize = sizeof(CoreObject),
    .itemsize = 0,
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = core_slots,
};

/* ------------------------------------------------------------------ module */

/* Where each kernel setting sits in station.hinge._layout.PARAM_NAMES; the layout's codes must
 * be the ones compiled in (a stale build is refused, and the Python reference runs instead). */
static int load_layout(PyObject *module, ModState *st) {
    PyObject *layout = PyImport_ImportModule("station.hinge._layout");
    if (layout == NULL) return -1;
    PyObject *names = PyObject_GetAttrString(layout, "PARAM_NAMES");
    int rc = -1;
    if (names == NULL) goto done;
    if (!PyTuple_Check(names)) {
        PyErr_SetString(PyExc_ImportError, "station.hinge._layout.PARAM_NAMES must be a tuple");
        goto done;
    }
    st->n_params = PyTuple_GET_SIZE(names);
    if (st->n_params > 256) {
        PyErr_SetString(PyExc_ImportError, "station.hinge._layout.PARAM_NAMES has more than 256 names");
        goto done;
    }
    for (int k = 0; k < N_USED; k++) {
        st->param_index[k] = -1;
        for (Py_ssize_t i = 0; i < st->n_params; i++) {
            PyObject *name = PyTuple_GET_ITEM(names, i);
            if (PyUnicode_Check(name) && PyUnicode_CompareWithASCIIString(name, USED_NAMES[k]) == 0) {
                st->param_index[k] = i;
                break;
            }
        }
        if (st->param_index[k] < 0) {
            PyErr_Format(PyExc_ImportError,
                         "the C kernel reads the setting '%s', which HingeSettings no longer has: "
                         "rebuild it from this checkout (pip install -e .)", USED_NAMES[k]);
            goto done;
        }
    }
    static const struct { const char *name; long value; } codes[] = {
        {"PH_ABSENT", PH_ABSENT}, {"PH_TOP", PH_TOP}, {"PH_HINGE", PH_HINGE}, {"PH_KNEE_BEND", PH_KNEE_BEND},
        {"PH_BOTTOM", PH_BOTTOM}, {"PH_ASCENT", PH_ASCENT}, {"EV_SET_ENDED", EV_SET_ENDED},
        {"EV_SET_STARTED", EV_SET_STARTED}, {"EV_REP", EV_REP}, {"EV_PHASE", EV_PHASE}, {"OK_TRUNK", OK_TRUNK},
        {"OK_KNEE", OK_KNEE}, {"OK_TRAVEL", OK_TRAVEL}, {"OK_SIDE", OK_SIDE}, {"TRACE_ROWS", TRACE_ROWS},
    };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        PyObject *value = PyObject_GetAttrString(layout, codes[i].name);
        long got = value ? PyLong_AsLong(value) : -1;
        Py_XDECREF(value);
        if (PyErr_Occurred()) goto done;
        if (got != codes[i].value) {
            PyErr_Format(PyExc_ImportError, "station.hinge._layout.%s is %ld, the C kernel was built with %ld: "
                         "rebuild it from this checkout (pip install -e .)", codes[i].name, got, codes[i].value);
            goto done;
        }
    }
    rc = 0;
    PyObject *used = PyTuple_New(N_USED);
    if (used == NULL) {
        rc = -1;
        goto done;
    }
    for (int k = 0; k < N_USED; k++) {
        PyObject *s = PyUnicode_FromString(USED_NAMES[k]);
        if (s == NULL) {
            Py_DECREF(used);
            rc = -1;
            goto done;
        }
        PyTuple_SET_ITEM(used, k, s);
    }
    if (PyModule_AddObject(module, "KERNEL_PARAMS", used) < 0) {
        Py_DECREF(used);
        rc = -1;
    }
done:
    Py_XDECREF(names);
    Py_DECREF(layout);
    return rc;
}

/* An attribute of an imported module (a new reference), or NULL. */
static PyObject *import_attr(const char *module, const char *name) {
    PyObject *mod = PyImport_ImportModule(module);
    if (mod == NULL) return NULL;
    PyObject *attr = PyObject_GetAttrString(mod, name);
    Py_DECREF(mod);
    return attr;
}

/* Whether ArrayHead reads what the buffer protocol reports, on a C-ordered and a transposed
 * (17, 3) array of the dtype: -1 on error. */
static int array_head_agrees(const ModState *st, PyObject *numpy, PyObject *dtype, int transposed) {
    PyObject *arr = PyObject_CallMethod(numpy, "zeros", "(ii)O", transposed ? 3 : 17, transposed ? 17 : 3, dtype);
    if (arr != NULL && transposed) Py_SETREF(arr, PyObject_GetAttrString(arr, "T"));
    if (arr == NULL) return -1;
    PyObject *descr = PyObject_GetAttrString(arr, "dtype");
    Py_buffer view;
    if (descr == NULL || PyObject_GetBuffer(arr, &view, PyBUF_RECORDS_RO) < 0) {
        Py_XDECREF(descr);
        Py_DECREF(arr);
        return -1;
    }
    const ArrayHead *a = (const ArrayHead *)arr;
    int agrees = Py_IS_TYPE(arr, (PyTypeObject *)st->ndarray_type) && a->nd == view.ndim && a->nd == 2
                 && a->data == view.buf && a->descr == descr && a->descr == dtype;
    for (int i = 0; agrees && i < 2; i++) agrees = a->dimensions[i] == view.shape[i] && a->strides[i] == view.strides[i];
    PyBuffer_Release(&view);
    Py_DECREF(descr);
    Py_DECREF(arr);
    return agrees;
}

static int load_numpy(ModState *st) {
    PyObject *numpy = PyImport_ImportModule("numpy");
    if (numpy == NULL) return -1;
    int rc = -1;
    st->ndarray_type = PyObject_GetAttrString(numpy, "ndarray");
    if (st->ndarray_type == NULL) goto done;
    if (!PyType_Check(st->ndarray_type)) {
        PyErr_SetString(PyExc_ImportError, "numpy.ndarray is not a type");
        goto done;
    }
    st->float32 = PyObject_CallMethod(numpy, "dtype", "s", "float32");
    st->float64 = st->float32 ? PyObject_CallMethod(numpy, "dtype", "s", "float64") : NULL;
    if (st->float64 == NULL) goto done;
    st->array_head_ok = 1;
    PyObject *dtypes[2] = {st->float32, st->float64};
    for (int i = 0; i < 4 && st->array_head_ok > 0; i++) st->array_head_ok = array_head_agrees(st, numpy, dtypes[i / 2], i % 2);
    rc = st->array_head_ok < 0 ? -1 : 0;
done:
    Py_DECREF(numpy);
    return rc;
}

static int module_exec(PyObject *module) {
    ModState *st = (ModState *)PyModule_GetState(module);
    st->core_type = NULL;
    if (load_numpy(st) < 0) return -1;
    if (PyModule_AddIntConstant(module, "ARRAY_HEAD", st->array_head_ok) < 0) return -1;
    st->frame_values = import_attr("station.hinge._reference", "frame_values");
    if (st->frame_values == NULL) return -1;
    if (load_layout(module, st) < 0) return -1;
    st->core_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &core_spec, NULL);
    if (st->core_type == NULL) return -1;
    if (PyModule_AddType(module, st->core_type) < 0) return -1;
    if (PyModule_AddIntConstant(module, "N_TRACE", N_TRACE) < 0) return -1;
    if (PyModule_AddIntConstant(module, "N_EVENT", N_EVENT) < 0) return -1;
    return 0;
}

static int module_traverse(PyObject *module, visitproc visit, void *arg) {
    ModState *st = (ModState *)PyModule_GetState(module);
    if (st) {
        Py_VISIT(st->core_type);
        Py_VISIT(st->ndarray_type);
        Py_VISIT(st->float32);
        Py_VISIT(st->float64);
        Py_VISIT(st->frame_values);
    }
    return 0;
}

static int module_clear(PyObject *module) {
    ModState *st = (ModState *)PyModule_GetState(module);
    if (st) {
        Py_CLEAR(st->core_type);
        Py_CLEAR(st->ndarray_type);
        Py_CLEAR(st->float32);
        Py_CLEAR(st->float64);
        Py_CLEAR(st->frame_values);
    }
    return 0;
}

static void module_free(void *module) { module_clear((PyObject *)module); }

PyDoc_STRVAR(hypot_doc, "hypot(x, y) -> float\n--\n\nThe kernel's hypot: math.hypot(x, y) to the last bit (tests check that).");

static PyObject *module_hypot(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (nargs != 2) return PyErr_Format(PyExc_TypeError, "hypot() takes 2 arguments, got %zd", nargs);
    double x = PyFloat_AsDouble(args[0]);
    if (x == -1.0 && PyErr_Occurred()) return NULL;
    double y = PyFloat_AsDouble(args[1]);
    if (y == -1.0 && PyErr_Occurred()) return NULL;
    return PyFloat_FromDouble(py_hypot(x, y));
}

static PyMethodDef module_methods[] = {
    {"hypot", (PyCFunction)(void (*)(void))module_hypot, METH_FASTCALL, hypot_doc},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, (void *)module_exec},
#ifdef Py_mod_multiple_interpreters
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "station.hinge._speedups",
    .m_doc = "C port of the hinge detector's per-frame kernel (the Python reference is the spec).",
    .m_size = sizeof(ModState),
    .m_methods = module_methods,
    .m_slots = module_slots,
    .m_traverse = module_traverse,
    .m_clear = module_clear,
    .m_free = module_free,
};

PyMODINIT_FUNC PyInit__speedups(void) { return PyModuleDef_Init(&module_def); }
