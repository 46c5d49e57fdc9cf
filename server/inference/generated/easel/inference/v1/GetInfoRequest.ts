// Original file: proto/easel/inference/v1/inference.proto


export interface GetInfoRequest {
}

export interface GetInfoRequest__Output {
}
