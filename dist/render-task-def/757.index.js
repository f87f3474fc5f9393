export const id = 757;
export const ids = [757];
export const modules = {

/***/ 4757:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   renderAws: () => (/* binding */ renderAws)
/* harmony export */ });
/* harmony import */ var _aws_sdk_client_ecr__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(8249);
/* harmony import */ var _aws_sdk_client_ecs__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(212);
/* harmony import */ var _shipline_aws__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(8683);
/* harmony import */ var _shipline_ecr__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(5156);
/* harmony import */ var _shipline_ecs__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(3393);
// The AWS side of render-task-def (DescribeTaskDefinition, ECR digest lookups), loaded by main.ts only on the
// paths that call AWS, so a render from a file with an image given by digest never loads an SDK client.





/** The longest one AWS call is retried through transient failures. */
const PATIENCE_SECONDS = 90;
async function renderAws(auth) {
    const session = await (0,_shipline_aws__WEBPACK_IMPORTED_MODULE_0__/* .createAwsClients */ .Gv)(auth);
    // A throttling storm or a 5xx burst outlasting the SDK's few attempts slows the render instead of failing it.
    const patience = { budgetMs: PATIENCE_SECONDS * 1000 };
    const perRegion = (Client) => {
        const clients = new Map();
        return (region) => {
            const key = region ?? session.region;
            let client = clients.get(key);
            if (!client) {
                client = (0,_shipline_aws__WEBPACK_IMPORTED_MODULE_0__/* .patientClient */ .zD)(key === session.region
                    ? session.client(Client)
                    : new Client({ ...session.config, region: key }), patience);
                clients.set(key, client);
            }
            return client;
        };
    };
    const ecsFor = perRegion(_aws_sdk_client_ecs__WEBPACK_IMPORTED_MODULE_3__/* .ECSClient */ .Zgc);
    const ecrFor = perRegion(_aws_sdk_client_ecr__WEBPACK_IMPORTED_MODULE_4__/* .ECRClient */ .S70);
    return {
        region: session.region,
        describe: (id, input) => {
            // An ARN is read in its own region (and must be in the job's account).
            const region = (0,_shipline_ecs__WEBPACK_IMPORTED_MODULE_2__/* .taskDefinitionRegion */ .j9)(id, input, {
                region: session.region,
                accountId: session.identity.accountId
            });
            return (0,_shipline_ecs__WEBPACK_IMPORTED_MODULE_2__/* .describeTaskDefinitionSource */ .jL)(ecsFor(region), id, input, region);
        },
        lookupDigest: (0,_shipline_ecs__WEBPACK_IMPORTED_MODULE_2__/* .imageDigestLookup */ .wf)({
            ecrFor,
            endpointRegistry: () => (0,_shipline_ecr__WEBPACK_IMPORTED_MODULE_1__/* .endpointRegistryHost */ .xS)(ecrFor(undefined))
        })
    };
}


/***/ })

};
