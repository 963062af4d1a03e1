export const id = 842;
export const ids = [842];
export const modules = {

/***/ 1842:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.s3Client = s3Client;
const client_s3_1 = __webpack_require__(3711);
function s3Client(settings) {
    return new client_s3_1.S3Client({
        region: settings.region,
        ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
        forcePathStyle: settings.forcePathStyle,
        ...(settings.credentials ? { credentials: settings.credentials } : {}),
        // Checksums only where the operation needs one: the registry signs the part's SHA-256 itself, and
        // servers without flexible checksums (Ceph RGW 16) refuse streamed bodies the SDK would checksum.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
    });
}


/***/ })

};
