"""CUDA's runtime error codes (cudaError_t), and cuDNN's statuses, with the cause each one names, for failures whose
text carries one.

ERRORS holds every code the CUDA runtime names, as rows (code, name, text, since): `name` and `text` are what
cudaGetErrorName and cudaGetErrorString answer (torch prints `CUDA error: <text>`; its CUDA initialisation warning
`Error <code>: <text>`; torch >= 2.1 and other libraries also print the name), `since` the first release of the
three read that names the code. Read from the runtime libraries themselves with tools/cuda_error_table.py:
libcudart 11.7.99 (nvidia-cuda-runtime-cu11, torch 2.0.1's), 12.9.79 (nvidia-cuda-runtime-cu12) and 13.5.37
(nvidia-cuda-runtime); the text is the newest release's (the texts agree across the three but for code 27).

CLASS_OF groups the codes whose documented meaning (the comments of the cudaError enum in each release's
include/driver_types.h, and the CUDA Runtime API reference, "Data types used by CUDA Runtime") names a cause outside
the failing call: the machine's driver, device or configuration, or the program's data. A code not in CLASS_OF
(an API misuse such as cudaErrorInvalidValue, or a text as general as cudaErrorNotSupported) is left to the other
rules: its documented meaning names no cause to act on.
"""

import re
from typing import NamedTuple


class Error(NamedTuple):
    """One cudaError_t (or, `library` "cuDNN", one cudnnStatus_t): its code, name (`cudaErrorStubLibrary`),
    cudaGetErrorString text and first release read."""

    code: int
    name: str
    text: str
    since: str
    library: str = "CUDA"


# fmt: off
ERRORS = tuple(
    Error(*row)
    for row in (
        (1, 'cudaErrorInvalidValue', 'invalid argument', '11.7'),
        (2, 'cudaErrorMemoryAllocation', 'out of memory', '11.7'),
        (3, 'cudaErrorInitializationError', 'initialization error', '11.7'),
        (4, 'cudaErrorCudartUnloading', 'driver shutting down', '11.7'),
        (5, 'cudaErrorProfilerDisabled', 'profiler disabled while using external profiling tool', '11.7'),
        (6, 'cudaErrorProfilerNotInitialized', 'profiler not initialized: call cudaProfilerInitialize()', '11.7'),
        (7, 'cudaErrorProfilerAlreadyStarted', 'profiler already started', '11.7'),
        (8, 'cudaErrorProfilerAlreadyStopped', 'profiler already stopped', '11.7'),
        (9, 'cudaErrorInvalidConfiguration', 'invalid configuration argument', '11.7'),
        (10, 'cudaErrorVersionTranslation', 'Driver is newer than runtime and returned parameters the runtime cannot process', '13.5'),  # noqa: E501
        (12, 'cudaErrorInvalidPitchValue', 'invalid pitch argument', '11.7'),
        (13, 'cudaErrorInvalidSymbol', 'invalid device symbol', '11.7'),
        (16, 'cudaErrorInvalidHostPointer', 'invalid host pointer', '11.7'),
        (17, 'cudaErrorInvalidDevicePointer', 'invalid device pointer', '11.7'),
        (18, 'cudaErrorInvalidTexture', 'invalid texture reference', '11.7'),
        (19, 'cudaErrorInvalidTextureBinding', 'texture is not bound to a pointer', '11.7'),
        (20, 'cudaErrorInvalidChannelDescriptor', 'invalid channel descriptor', '11.7'),
        (21, 'cudaErrorInvalidMemcpyDirection', 'invalid copy direction for memcpy', '11.7'),
        (22, 'cudaErrorAddressOfConstant', 'invalid address of constant', '11.7'),
        (23, 'cudaErrorTextureFetchFailed', 'fetch from texture failed', '11.7'),
        (24, 'cudaErrorTextureNotBound', 'cannot fetch from a texture that is not bound', '11.7'),
        (25, 'cudaErrorSynchronizationError', 'incorrect use of __syncthreads()', '11.7'),
        (26, 'cudaErrorInvalidFilterSetting', 'linear filtering not supported for non-float type', '11.7'),
        (27, 'cudaErrorInvalidNormSetting', 'read as normalized float not supported for data type', '11.7'),
        (28, 'cudaErrorMixedDeviceExecution', 'device emulation mode and device execution mode cannot be mixed', '11.7'),  # noqa: E501
        (31, 'cudaErrorNotYetImplemented', 'feature not yet implemented', '11.7'),
        (32, 'cudaErrorMemoryValueTooLarge', 'memory size or pointer value too large to fit in 32 bit', '11.7'),
        (34, 'cudaErrorStubLibrary', 'CUDA driver is a stub library', '11.7'),
        (35, 'cudaErrorInsufficientDriver', 'CUDA driver version is insufficient for CUDA runtime version', '11.7'),
        (36, 'cudaErrorCallRequiresNewerDriver', 'API call is not supported in the installed CUDA driver', '11.7'),
        (37, 'cudaErrorInvalidSurface', 'invalid surface reference', '11.7'),
        (43, 'cudaErrorDuplicateVariableName', 'duplicate global variable looked up by string name', '11.7'),
        (44, 'cudaErrorDuplicateTextureName', 'duplicate texture looked up by string name', '11.7'),
        (45, 'cudaErrorDuplicateSurfaceName', 'duplicate surface looked up by string name', '11.7'),
        (46, 'cudaErrorDevicesUnavailable', 'CUDA-capable device(s) is/are busy or unavailable', '11.7'),
        (49, 'cudaErrorIncompatibleDriverContext', 'incompatible driver context', '11.7'),
        (52, 'cudaErrorMissingConfiguration', '__global__ function call is not configured', '11.7'),
        (53, 'cudaErrorPriorLaunchFailure', 'unspecified launch failure in prior launch', '11.7'),
        (65, 'cudaErrorLaunchMaxDepthExceeded', 'launch would exceed maximum depth of nested launches', '11.7'),
        (66, 'cudaErrorLaunchFileScopedTex', 'launch failed because kernel uses unsupported, file-scoped textures (texture objects are supported)', '11.7'),  # noqa: E501
        (67, 'cudaErrorLaunchFileScopedSurf', 'launch failed because kernel uses unsupported, file-scoped surfaces (surface objects are supported)', '11.7'),  # noqa: E501
        (68, 'cudaErrorSyncDepthExceeded', "cudaDeviceSynchronize failed because caller's grid depth exceeds cudaLimitDevRuntimeSyncDepth", '11.7'),  # noqa: E501
        (69, 'cudaErrorLaunchPendingCountExceeded', 'launch failed because launch would exceed cudaLimitDevRuntimePendingLaunchCount', '11.7'),  # noqa: E501
        (98, 'cudaErrorInvalidDeviceFunction', 'invalid device function', '11.7'),
        (100, 'cudaErrorNoDevice', 'no CUDA-capable device is detected', '11.7'),
        (101, 'cudaErrorInvalidDevice', 'invalid device ordinal', '11.7'),
        (102, 'cudaErrorDeviceNotLicensed', "device doesn't have valid Grid license", '11.7'),
        (103, 'cudaErrorSoftwareValidityNotEstablished', 'integrity checks failed', '11.7'),
        (127, 'cudaErrorStartupFailure', 'startup failure in cuda runtime', '11.7'),
        (200, 'cudaErrorInvalidKernelImage', 'device kernel image is invalid', '11.7'),
        (201, 'cudaErrorDeviceUninitialized', 'invalid device context', '11.7'),
        (205, 'cudaErrorMapBufferObjectFailed', 'mapping of buffer object failed', '11.7'),
        (206, 'cudaErrorUnmapBufferObjectFailed', 'unmapping of buffer object failed', '11.7'),
        (207, 'cudaErrorArrayIsMapped', 'array is mapped', '11.7'),
        (208, 'cudaErrorAlreadyMapped', 'resource already mapped', '11.7'),
        (209, 'cudaErrorNoKernelImageForDevice', 'no kernel image is available for execution on the device', '11.7'),
        (210, 'cudaErrorAlreadyAcquired', 'resource already acquired', '11.7'),
        (211, 'cudaErrorNotMapped', 'resource not mapped', '11.7'),
        (212, 'cudaErrorNotMappedAsArray', 'resource not mapped as array', '11.7'),
        (213, 'cudaErrorNotMappedAsPointer', 'resource not mapped as pointer', '11.7'),
        (214, 'cudaErrorECCUncorrectable', 'uncorrectable ECC error encountered', '11.7'),
        (215, 'cudaErrorUnsupportedLimit', 'limit is not supported on this architecture', '11.7'),
        (216, 'cudaErrorDeviceAlreadyInUse', 'exclusive-thread device already in use by a different thread', '11.7'),
        (217, 'cudaErrorPeerAccessUnsupported', 'peer access is not supported between these two devices', '11.7'),
        (218, 'cudaErrorInvalidPtx', 'a PTX JIT compilation failed', '11.7'),
        (219, 'cudaErrorInvalidGraphicsContext', 'invalid OpenGL or DirectX context', '11.7'),
        (220, 'cudaErrorNvlinkUncorrectable', 'uncorrectable NVLink error detected during the execution', '11.7'),
        (221, 'cudaErrorJitCompilerNotFound', 'PTX JIT compiler library not found', '11.7'),
        (222, 'cudaErrorUnsupportedPtxVersion', 'the provided PTX was compiled with an unsupported toolchain.', '11.7'),
        (223, 'cudaErrorJitCompilationDisabled', 'PTX JIT compilation was disabled', '11.7'),
        (224, 'cudaErrorUnsupportedExecAffinity', 'the provided execution affinity is not supported', '11.7'),
        (225, 'cudaErrorUnsupportedDevSideSync', 'the provided PTX contains unsupported call to cudaDeviceSynchronize', '12.9'),  # noqa: E501
        (226, 'cudaErrorContained', 'Invalid access of peer GPU memory over nvlink or a hardware error', '12.9'),
        (227, 'cudaErrorInsufficientLoaderVersion', 'Loader version is insufficient for fatbin', '13.5'),
        (300, 'cudaErrorInvalidSource', 'device kernel image is invalid', '11.7'),
        (301, 'cudaErrorFileNotFound', 'file not found', '11.7'),
        (302, 'cudaErrorSharedObjectSymbolNotFound', 'shared object symbol not found', '11.7'),
        (303, 'cudaErrorSharedObjectInitFailed', 'shared object initialization failed', '11.7'),
        (304, 'cudaErrorOperatingSystem', 'OS call failed or operation not supported on this OS', '11.7'),
        (400, 'cudaErrorInvalidResourceHandle', 'invalid resource handle', '11.7'),
        (401, 'cudaErrorIllegalState', 'the operation cannot be performed in the present state', '11.7'),
        (402, 'cudaErrorLossyQuery', 'attempted introspection would be semantically lossy', '12.9'),
        (500, 'cudaErrorSymbolNotFound', 'named symbol not found', '11.7'),
        (600, 'cudaErrorNotReady', 'device not ready', '11.7'),
        (700, 'cudaErrorIllegalAddress', 'an illegal memory access was encountered', '11.7'),
        (701, 'cudaErrorLaunchOutOfResources', 'too many resources requested for launch', '11.7'),
        (702, 'cudaErrorLaunchTimeout', 'the launch timed out and was terminated', '11.7'),
        (703, 'cudaErrorLaunchIncompatibleTexturing', 'launch uses incompatible texturing mode', '11.7'),
        (704, 'cudaErrorPeerAccessAlreadyEnabled', 'peer access is already enabled', '11.7'),
        (705, 'cudaErrorPeerAccessNotEnabled', 'peer access has not been enabled', '11.7'),
        (708, 'cudaErrorSetOnActiveProcess', 'cannot set while device is active in this process', '11.7'),
        (709, 'cudaErrorContextIsDestroyed', 'context is destroyed', '11.7'),
        (710, 'cudaErrorAssert', 'device-side assert triggered', '11.7'),
        (711, 'cudaErrorTooManyPeers', 'peer mapping resources exhausted', '11.7'),
        (712, 'cudaErrorHostMemoryAlreadyRegistered', 'part or all of the requested memory range is already mapped', '11.7'),  # noqa: E501
        (713, 'cudaErrorHostMemoryNotRegistered', 'pointer does not correspond to a registered memory region', '11.7'),
        (714, 'cudaErrorHardwareStackError', 'hardware stack error', '11.7'),
        (715, 'cudaErrorIllegalInstruction', 'an illegal instruction was encountered', '11.7'),
        (716, 'cudaErrorMisalignedAddress', 'misaligned address', '11.7'),
        (717, 'cudaErrorInvalidAddressSpace', 'operation not supported on global/shared address space', '11.7'),
        (718, 'cudaErrorInvalidPc', 'invalid program counter', '11.7'),
        (719, 'cudaErrorLaunchFailure', 'unspecified launch failure', '11.7'),
        (720, 'cudaErrorCooperativeLaunchTooLarge', 'too many blocks in cooperative launch', '11.7'),
        (721, 'cudaErrorTensorMemoryLeak', 'tensor memory not completely freed', '12.9'),
        (800, 'cudaErrorNotPermitted', 'operation not permitted', '11.7'),
        (801, 'cudaErrorNotSupported', 'operation not supported', '11.7'),
        (802, 'cudaErrorSystemNotReady', 'system not yet initialized', '11.7'),
        (803, 'cudaErrorSystemDriverMismatch', 'system has unsupported display driver / cuda driver combination', '11.7'),  # noqa: E501
        (804, 'cudaErrorCompatNotSupportedOnDevice', 'forward compatibility was attempted on non supported HW', '11.7'),
        (805, 'cudaErrorMpsConnectionFailed', 'MPS client failed to connect to the MPS control daemon or the MPS server', '11.7'),  # noqa: E501
        (806, 'cudaErrorMpsRpcFailure', 'the remote procedural call between the MPS server and the MPS client failed', '11.7'),  # noqa: E501
        (807, 'cudaErrorMpsServerNotReady', 'MPS server is not ready to accept new MPS client requests', '11.7'),
        (808, 'cudaErrorMpsMaxClientsReached', 'the hardware resources required to create MPS client have been exhausted', '11.7'),  # noqa: E501
        (809, 'cudaErrorMpsMaxConnectionsReached', 'the hardware resources required to support device connections have been exhausted', '11.7'),  # noqa: E501
        (810, 'cudaErrorMpsClientTerminated', 'the MPS client has been terminated by the server', '12.9'),
        (811, 'cudaErrorCdpNotSupported', 'is using CUDA Dynamic Parallelism, but the current configuration, like MPS, does not support it', '12.9'),  # noqa: E501
        (812, 'cudaErrorCdpVersionMismatch', 'unsupported interaction between different versions of CUDA Dynamic Parallelism', '12.9'),  # noqa: E501
        (900, 'cudaErrorStreamCaptureUnsupported', 'operation not permitted when stream is capturing', '11.7'),
        (901, 'cudaErrorStreamCaptureInvalidated', 'operation failed due to a previous error during capture', '11.7'),
        (902, 'cudaErrorStreamCaptureMerge', 'operation would result in a merge of separate capture sequences', '11.7'),
        (903, 'cudaErrorStreamCaptureUnmatched', 'capture was not ended in the same stream as it began', '11.7'),
        (904, 'cudaErrorStreamCaptureUnjoined', 'capturing stream has unjoined work', '11.7'),
        (905, 'cudaErrorStreamCaptureIsolation', 'dependency created on uncaptured work in another stream', '11.7'),
        (906, 'cudaErrorStreamCaptureImplicit', 'operation would make the legacy stream depend on a capturing blocking stream', '11.7'),  # noqa: E501
        (907, 'cudaErrorCapturedEvent', 'operation not permitted on an event last recorded in a capturing stream', '11.7'),  # noqa: E501
        (908, 'cudaErrorStreamCaptureWrongThread', 'attempt to terminate a thread-local capture sequence from another thread', '11.7'),  # noqa: E501
        (909, 'cudaErrorTimeout', 'wait operation timed out', '11.7'),
        (910, 'cudaErrorGraphExecUpdateFailure', 'the graph update was not performed because it included changes which violated constraints specific to instantiated graph update', '11.7'),  # noqa: E501
        (911, 'cudaErrorExternalDevice', 'an async error has occured in external entity outside of CUDA', '11.7'),
        (912, 'cudaErrorInvalidClusterSize', 'a kernel launch error has occurred due to cluster misconfiguration', '12.9'),  # noqa: E501
        (913, 'cudaErrorFunctionNotLoaded', 'the function handle is not loaded when calling an API that requires a loaded function', '12.9'),  # noqa: E501
        (914, 'cudaErrorInvalidResourceType', 'one or more resources passed in are not valid resource types for the operation', '12.9'),  # noqa: E501
        (915, 'cudaErrorInvalidResourceConfiguration', 'one or more resources are insufficient or non-applicable for the operation', '12.9'),  # noqa: E501
        (917, 'cudaErrorStreamDetached', 'API call not permitted since the green context associated with the stream has been destroyed', '13.5'),  # noqa: E501
        (918, 'cudaErrorGraphRecaptureFailure', 'recapturing to the source graph failed and had to be terminated', '13.5'),  # noqa: E501
        (919, 'cudaErrorFabricNotReady', 'GPU fabric is not ready within the probe wait budget; application may retry (see CUDA_FABRIC_INIT_TIMEOUT_MS)', '13.5'),  # noqa: E501
        (999, 'cudaErrorUnknown', 'unknown error', '11.7'),
    )
)
# fmt: on

BY_CODE = {e.code: e for e in ERRORS}
BY_NAME = {e.name: e for e in ERRORS}

# class: (meaning, fix). The meanings restate driver_types.h's comment of each code (cited by code below).
CLASSES = {
    # 34 cudaErrorStubLibrary: "the CUDA driver that the application has loaded is a stub library"
    "stub-library": (
        "this process loaded the CUDA toolkit's stub libcuda (lib64/stubs/libcuda.so), which is only for linking, "
        "instead of the NVIDIA driver's",
        "remove the toolkit's `stubs` folder from LD_LIBRARY_PATH (and from /etc/ld.so.conf.d, then `sudo ldconfig`) "
        "so that the loader finds the driver's libcuda.so.1",
    ),
    # 35 InsufficientDriver, 36 CallRequiresNewerDriver ("install an updated NVIDIA CUDA driver"), 222
    # UnsupportedPtxVersion ("the PTX was generated by a compiler newer than what is supported by the CUDA driver"),
    # 227 InsufficientLoaderVersion ("loader version is insufficient for Fatbin")
    "driver-too-old": (
        "the NVIDIA driver is older than the CUDA that built this code (torch, triton or an extension): it cannot "
        "run or JIT-compile what that CUDA produced",
        "update the NVIDIA driver to one that supports the CUDA release the code was built with (`nvidia-smi` "
        "shows the newest CUDA the driver supports), or use a build made with a CUDA the driver supports",
    ),
    # 46 DevicesUnavailable ("cudaComputeModeProhibited, cudaComputeModeExclusiveProcess, or long running kernels"),
    # 216 DeviceAlreadyInUse ("an exclusive-thread device that is already in use")
    "busy": (
        "the GPU's compute mode forbids this process (Exclusive_Process held by another process, or Prohibited)",
        "`nvidia-smi -q -d COMPUTE` shows the mode and `nvidia-smi` the process holding the GPU: stop it, use "
        "another GPU, or `sudo nvidia-smi -i N -c DEFAULT`",
    ),
    # 100 NoDevice
    "no-device": (
        "CUDA finds no GPU in this process",
        "check `nvidia-smi` and CUDA_VISIBLE_DEVICES (an empty value or unknown indices hide every GPU); in a "
        "container pass the GPUs (`--gpus all`); in a batch job request them",
    ),
    # 101 InvalidDevice ("the device ordinal supplied by the user does not correspond to a valid CUDA device")
    "invalid-device": (
        "the program selected a GPU index this process does not have: CUDA numbers only the GPUs "
        "CUDA_VISIBLE_DEVICES leaves visible, from 0",
        "use an index below torch.cuda.device_count() (e.g. LOCAL_RANK against the GPUs per node given to "
        "torchrun's --nproc-per-node), or make more GPUs visible (CUDA_VISIBLE_DEVICES)",
    ),
    # 102 DeviceNotLicensed ("the device doesn't have a valid Grid License")
    "license": (
        "this virtual GPU (NVIDIA vGPU) has no valid license: unlicensed vGPUs refuse CUDA work",
        "license it: `nvidia-smi -q | grep -i -A2 licen` shows the state; install the client configuration token "
        "and restart nvidia-gridd (NVIDIA vGPU Client Licensing guide)",
    ),
    # 103 SoftwareValidityNotEstablished ("the validity of either the runtime or the driver could not be
    # established"), 127 StartupFailure ("an internal startup failure in the CUDA runtime")
    "self-test": (
        "the CUDA runtime's start-up checks of itself and the driver failed: the runtime and driver files do not "
        "fit together or are damaged",
        "check that `nvidia-smi` works and that libcudart and libcuda are the environment's and the driver's own "
        "(`python -m checks verify` lists the libraries loaded); reinstall the driver if nvidia-smi fails too",
    ),
    # 214 ECCUncorrectable, 220 NvlinkUncorrectable, 226 Contained ("certain classes of hardware errors")
    "hardware": (
        "the GPU reported an uncorrectable hardware error (ECC memory, NVLink, or a contained error)",
        "`nvidia-smi -q -d ECC,ROW_REMAPPER` and `dmesg | grep -i xid` show it; run `python -m checks health`; move "
        "the job off this GPU and have it reset or serviced if the error recurs",
    ),
    # 218 InvalidPtx, 221 JitCompilerNotFound ("the PTX JIT compiler library was not found"), 223
    # JitCompilationDisabled: all three arise only where the code has no binary for this GPU and CUDA JIT-compiles
    # PTX ("The runtime may fall back to compiling PTX if an application does not contain a suitable binary")
    "ptx-jit": (
        "this code has no kernel binary for the GPU, so CUDA had to JIT-compile its PTX, and that failed: the "
        "driver's PTX JIT compiler (libnvidia-ptxjitcompiler) is missing or disabled (CUDA_DISABLE_PTX_JIT), "
        "or it rejected the PTX",
        "use a build with kernels for this GPU's architecture (verify's gpu-arch line names one); otherwise make "
        "the driver's libnvidia-ptxjitcompiler.so.1 visible (in a container: the NVIDIA Container Toolkit's "
        "compute capability) and unset CUDA_DISABLE_PTX_JIT",
    ),
    # 98 InvalidDeviceFunction, 209 NoKernelImageForDevice, 200/300 InvalidKernelImage/InvalidSource
    "no-kernel": (
        "this code has no kernel for the GPU's architecture (its build's arch list lacks it)",
        "use a build whose arch list has this GPU's architecture (verify's gpu-arch line names one); for an "
        "extension, rebuild it with TORCH_CUDA_ARCH_LIST naming this GPU's compute capability",
    ),
    # 217 PeerAccessUnsupported ("P2P access is not supported across the given devices"), 711 TooManyPeers
    "peer-access": (
        "direct peer-to-peer access between these GPUs is not available (their topology, a PCIe switch with "
        "ACS or an IOMMU between them, or a virtual machine)",
        "`nvidia-smi topo -m` and `nvidia-smi topo -p2p r` show it; for NCCL set NCCL_P2P_DISABLE=1, or have the "
        'admin disable PCIe ACS / set the IOMMU to passthrough (NCCL troubleshooting guide, "PCI Access Control '
        'Services")',
    ),
    # 702 LaunchTimeout ("can only occur if timeouts are enabled - see cudaDevAttrKernelExecTimeout")
    "watchdog": (
        "the kernel ran longer than the run-time limit the driver enforces on this GPU (kernel execution timeout, "
        "cudaDevAttrKernelExecTimeout): the GPU drives a display (an X server) or Windows' TDR watchdog is on",
        "run on a GPU that drives no display (CUDA_VISIBLE_DEVICES), or stop the display server on it (`sudo "
        "systemctl stop display-manager`); on Windows, raise TdrDelay or use TCC mode",
    ),
    # 710 Assert ("an assert triggered in device code during kernel execution")
    "device-assert": (
        "a device-side assertion failed in a kernel; in PyTorch this is nearly always an index out of range in the "
        "data: a class label >= the number of classes of a loss, an embedding index >= num_embeddings, an index "
        "of gather/index_select/scatter out of bounds",
        "rerun with CUDA_LAUNCH_BLOCKING=1 to see the operation (or run the step on the CPU, which names the bad "
        "index); check the labels and indices against their ranges (e.g. targets.max() < num_classes)",
    ),
    # 700 IllegalAddress, 714 HardwareStackError, 715 IllegalInstruction, 716 MisalignedAddress, 718 InvalidPc,
    # 719 LaunchFailure, 53 PriorLaunchFailure ("Common causes include dereferencing an invalid device pointer")
    "kernel-fault": (
        "a GPU kernel faulted (an invalid memory access or instruction): a bug in that kernel or its inputs, or "
        "a faulty GPU when it follows one GPU",
        "rerun with CUDA_LAUNCH_BLOCKING=1 to name the kernel; run `python -m checks health` on this GPU and move "
        "the job to another GPU: if the fault stays with the GPU, the GPU is at fault",
    ),
    # 9 InvalidConfiguration, 701 LaunchOutOfResources ("too many threads for the kernel's register count"), 720
    # CooperativeLaunchTooLarge, 912 InvalidClusterSize
    "launch-config": (
        "a kernel was launched with more threads, blocks, registers or shared memory than this GPU allows: its "
        "launch configuration (in an extension or a generated kernel) does not fit this GPU",
        "use a build of the extension made for this GPU's architecture, or a smaller block size (for triton "
        "kernels: fewer num_warps, smaller tiles)",
    ),
    # 805-809 Mps*, 810 MpsClientTerminated, 811 CdpNotSupported ("like MPS")
    "mps": (
        "CUDA's Multi-Process Service (MPS) refused this process: its control daemon or server is unreachable, "
        "not ready, or out of client resources",
        "check the daemon (`echo get_server_list | nvidia-cuda-mps-control`) and that CUDA_MPS_PIPE_DIRECTORY "
        "matches its pipe folder; to run without MPS, stop it (`echo quit | nvidia-cuda-mps-control`)",
    ),
    # 2 MemoryAllocation ("the API call failed because it was unable to allocate enough memory")
    "out-of-memory": (
        "the GPU's memory is full: this process's work does not fit in what is free, or other processes hold it",
        "`nvidia-smi` lists the processes holding it: end them or use a free GPU; otherwise lower the batch size "
        "(or use activation checkpointing, mixed precision)",
    ),
    # 802 SystemNotReady, 919 FabricNotReady ("the fabric manager probe is still in progress")
    "fabric": (
        "the GPUs' NVSwitch / NVLink fabric is not up: the fabric manager is not running or has not finished",
        "start it (`sudo systemctl start nvidia-fabricmanager`, the same version as the driver) and wait for it; "
        "CUDA_FABRIC_INIT_TIMEOUT_MS sets how long CUDA 13 waits",
    ),
}

CLASS_OF = {
    **dict.fromkeys((34,), "stub-library"),
    **dict.fromkeys((35, 36, 222, 227), "driver-too-old"),
    **dict.fromkeys((46, 216), "busy"),
    **dict.fromkeys((100,), "no-device"),
    **dict.fromkeys((101,), "invalid-device"),
    **dict.fromkeys((102,), "license"),
    **dict.fromkeys((103, 127), "self-test"),
    **dict.fromkeys((214, 220, 226), "hardware"),
    **dict.fromkeys((218, 221, 223), "ptx-jit"),
    **dict.fromkeys((98, 200, 209, 300), "no-kernel"),
    **dict.fromkeys((217, 711), "peer-access"),
    **dict.fromkeys((702,), "watchdog"),
    **dict.fromkeys((710,), "device-assert"),
    **dict.fromkeys((53, 700, 714, 715, 716, 718, 719), "kernel-fault"),
    **dict.fromkeys((9, 701, 720, 912), "launch-config"),
    **dict.fromkeys((805, 806, 807, 808, 809, 810, 811), "mps"),
    **dict.fromkeys((802, 919), "fabric"),
    **dict.fromkeys((2,), "out-of-memory"),
}

_NAME = re.compile(r"\b(cudaError[A-Z]\w*)")
# CUDA's driver API name of the same code (CUDA_ERROR_STUB_LIBRARY for cudaErrorStubLibrary), as cuda.h has it
_DRIVER_NAME = re.compile(r"\bCUDA_ERROR_([A-Z0-9_]+)")
# torch's CUDA initialisation warning `Error 34: CUDA driver is a stub library`; `CUDA error 702`; `error code 34`
_CODE = re.compile(r"\b(?:CUDA )?[Ee]rror(?: code)?[ :=]+(\d{1,4})\b")
# torch's C10_CUDA_CHECK `CUDA error: <text>`, CUDA's own `CUDA Error: <text>`, and torch 0.x/1.x's THC forms
# `cuda runtime error (N) : <text>` and `THCudaCheck FAIL file=... line=... error=N : <text>`, whose N is of the
# numbering before CUDA 10.1 (48 for no kernel image, 59 for a device-side assert): the text, not N, is looked up
_TEXT = re.compile(r"CUDA error: |CUDA Error: |cuda runtime error \(\d+\) : |THCudaCheck FAIL .*? error=\d+ : ", re.I)


# NCCL's CUDACHECK warning, `Cuda failure 'text'` (NCCL's src/include/checks.h), and its driver-call form `Cuda
# failure 2 'text'` (newer NCCL), which torch's NCCL errors quote after `Last error:`
_NCCL = re.compile(r"Cuda failure (?:\d+ )?'([^'\n]+)'")


# torch's CUDACachingAllocator (c10/cuda/CUDACachingAllocator.cpp, 1.x to 2.x): `CUDA out of memory. Tried to ...`
_TORCH_OOM = re.compile(r"CUDA out of memory\. Tried to allocate")


def find(text):
    """Return the Error a failure's text names, or None: by its name, its code beside its text, or the text after
    `CUDA error: ` or inside NCCL's `Cuda failure '...'` (only there: some texts, such as `invalid argument`, are
    too general to match alone)."""
    text = text or ""
    for name in _NAME.findall(text):
        if name in BY_NAME and name != "cudaErrorUnknown":
            return BY_NAME[name]
    for driver in _DRIVER_NAME.findall(text):
        name = "cudaError" + "".join(word.capitalize() for word in driver.split("_"))
        if name in BY_NAME:
            return BY_NAME[name]
    if _TORCH_OOM.search(text):  # torch's caching allocator reports cudaErrorMemoryAllocation in its own words
        return BY_CODE[2]
    for found in _CODE.finditer(text):
        error = BY_CODE.get(int(found.group(1)))
        if error is not None and error.text.lower() in text[found.end() : found.end() + 200].lower():
            return error
    for found in _NCCL.finditer(text):
        for error in ERRORS:
            if found.group(1).strip().rstrip(".").lower() == error.text.rstrip(".").lower():
                return error
    for found in _TEXT.finditer(text):
        rest = text[found.end() :].split("\n", 1)[0].strip().rstrip(".").lower()
        for error in ERRORS:
            known = error.text.rstrip(".").lower()
            if rest == known or rest.startswith((known + ". ", known + " at ")):  # THC adds ` at <file>:<line>`
                return error
    return None


# cuDNN's statuses (cudnnStatus_t of cuDNN 8.5's cudnn_ops_infer.h; cudnnGetErrorString gives the name itself, and
# torch prints `cuDNN error: CUDNN_STATUS_...`) whose documented meaning (cuDNN API reference, cudnnStatus_t) names
# a cause outside the call: code, name, (meaning, fix). BAD_PARAM, INVALID_VALUE, NOT_SUPPORTED, MAPPING_ERROR,
# INTERNAL_ERROR name none.
CUDNN_STATUSES = {
    # "resource allocation failed inside the cuDNN library ... usually an internal cudaMalloc() failure"
    "CUDNN_STATUS_ALLOC_FAILED": (2, None),
    # "usually returned when a call to cudnnCreate() fails ... due to an error in the CUDA Runtime API called by
    # cudnnCreate() or by an error in the hardware setup"
    "CUDNN_STATUS_NOT_INITIALIZED": (
        1,
        (
            "cuDNN could not start (cudnnCreate failed in the CUDA runtime beneath it): in PyTorch nearly always "
            "because the GPU's memory was already full when cuDNN made its handle, else a cuDNN that does not fit "
            "the CUDA runtime or the driver",
            "free the GPU (`nvidia-smi` lists what holds it) or lower the batch size; if its memory was free, check "
            "verify's cudnn and libraries lines (the cuDNN loaded must be the environment's, built for its CUDA)",
        ),
    ),
    # "The GPU program failed to execute. This is usually caused by a failure to launch some cuDNN kernel"
    "CUDNN_STATUS_EXECUTION_FAILED": (
        8,
        (
            "a cuDNN kernel failed to run on the GPU: most often this cuDNN / torch build has no kernels for the "
            "GPU's architecture, or the GPU's memory is exhausted",
            "verify's gpu-arch line names the build for this GPU; otherwise free GPU memory; "
            "torch.backends.cudnn.enabled = False confirms that cuDNN is the part that fails",
        ),
    ),
    # "The function requires a feature absent from the current GPU device"
    "CUDNN_STATUS_ARCH_MISMATCH": (
        6,
        (
            "the cuDNN function needs a GPU feature this GPU lacks: the GPU is too old for it",
            "run on a newer GPU, or switch cuDNN off for this model (torch.backends.cudnn.enabled = False)",
        ),
    ),
    # "A runtime library required by RNN calls (libcuda.so or nvcuda.dll) cannot be found in standard locations"
    "CUDNN_STATUS_RUNTIME_PREREQUISITE_MISSING": (
        11,
        (
            "cuDNN cannot find the driver's libcuda.so.1 in the standard locations",
            "install the NVIDIA driver, or in a container start it with the NVIDIA runtime (`--gpus all`); "
            "WSL2: put /usr/lib/wsl/lib on LD_LIBRARY_PATH",
        ),
    ),
    # cuDNN 8's sub-libraries (libcudnn_ops_infer, libcudnn_cnn_infer, ...) check each other's versions
    "CUDNN_STATUS_VERSION_MISMATCH": (
        14,
        (
            "cuDNN libraries of different versions were loaded together (its sub-libraries check each other)",
            "make one cuDNN visible: remove other cuDNN folders from LD_LIBRARY_PATH (verify's libraries line lists "
            "what is loaded and from where)",
        ),
    ),
}
_CUDNN = re.compile(r"\b(CUDNN_STATUS_[A-Z_]+)\b")

# cuBLAS's cublasStatus_t (cublas_api.h; the cuBLAS documentation's "cublasStatus_t" table gives each value's meaning
# and "to correct"), as torch prints them: "CUDA error: CUBLAS_STATUS_NOT_INITIALIZED when calling
# `cublasCreate(handle)`" (aten/src/ATen/cuda/CUDABlas.cpp, TORCH_CUDABLAS_CHECK). The statuses whose documented cause
# is a resource or the hardware setup; INVALID_VALUE, NOT_SUPPORTED and INTERNAL_ERROR name no cause of their own.
CUBLAS_STATUSES = {
    # "The cuBLAS library was not initialized. This is usually caused by the lack of a prior cublasCreate() call, an
    # error in the CUDA Runtime API called by the cuBLAS routine, or an error in the hardware setup." torch calls
    # cublasCreate itself, so the runtime beneath it failed: in PyTorch nearly always the GPU's memory (cuBLAS
    # allocates its workspace as it creates the handle).
    "CUBLAS_STATUS_NOT_INITIALIZED": (
        1,
        (
            "cuBLAS could not create its handle (cublasCreate failed in the CUDA runtime beneath it): in PyTorch "
            "nearly always because the GPU's memory was already full when cuBLAS allocated its workspace, else a "
            "cuBLAS that does not fit the CUDA runtime or the driver",
            "free the GPU (`nvidia-smi` lists what holds it) or lower the batch size; if its memory was free, check "
            "verify's libraries line (the cuBLAS loaded must be the environment's, of torch's CUDA)",
        ),
    ),
    # "Resource allocation failed inside the cuBLAS library. This is usually caused by a cudaMalloc() failure."
    "CUBLAS_STATUS_ALLOC_FAILED": (3, None),
    # "The function requires a feature absent from the device architecture"
    "CUBLAS_STATUS_ARCH_MISMATCH": (
        8,
        (
            "the cuBLAS function needs a GPU feature this GPU's architecture lacks: the GPU is too old for it",
            "run on a newer GPU (verify's gpu-arch line names what this build supports)",
        ),
    ),
}
_CUBLAS = re.compile(r"\b(CUBLAS_STATUS_[A-Z_]+)\b")


def judge(text):
    """Return (Error, meaning, fix) of the CUDA error (or cuDNN or cuBLAS status: an Error of `library` "cuDNN" or
    "cuBLAS") a failure's text names, where its documented meaning names a cause (CLASS_OF, CUDNN_STATUSES,
    CUBLAS_STATUSES), else None."""
    error = find(text)
    if error is not None and error.code in CLASS_OF:
        meaning, fix = CLASSES[CLASS_OF[error.code]]
        return error, meaning, fix
    for pattern, table, release, library in (
        (_CUDNN, CUDNN_STATUSES, "8.5", "cuDNN"),
        (_CUBLAS, CUBLAS_STATUSES, "12", "cuBLAS"),
    ):
        for name in pattern.findall(text or ""):
            if name in table:
                code, says = table[name]
                meaning, fix = says or CLASSES["out-of-memory"]
                return Error(code, name, name, release, library=library), meaning, fix
    return None
